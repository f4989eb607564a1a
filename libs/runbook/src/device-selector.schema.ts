import { z } from 'zod';
import { busNameSchema, driverNameSchema, hexIdSchema } from './kernel-names.schema.js';

/** How to find the devices to swap: those bound to `driver` on `bus`, optionally by id. */
export const deviceSelectorSchema = z.strictObject({
  bus: busNameSchema,
  driver: driverNameSchema,
  vendor: hexIdSchema('vendor id').optional(),
  device: hexIdSchema('device id').optional(),
});
export type DeviceSelector = z.output<typeof deviceSelectorSchema>;

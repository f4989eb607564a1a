/** Injection tokens for values that are not classes. */
export const CONTROLLER_CONFIG = Symbol('CONTROLLER_CONFIG');
export const LOGGER = Symbol('LOGGER');

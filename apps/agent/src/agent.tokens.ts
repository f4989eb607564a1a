/** Injection tokens for the agent's providers that are not classes. */
export const AGENT_CONFIG = Symbol('AGENT_CONFIG');
export const REDIS = Symbol('REDIS');
export const KERNEL_PORT = Symbol('KERNEL_PORT');
export const KERNEL_ACCESS = Symbol('KERNEL_ACCESS');

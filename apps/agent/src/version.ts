/** Reported in heartbeats and `hotswap_agent_build_info`; bumped with the package version. */
export const AGENT_VERSION = '0.1.0';

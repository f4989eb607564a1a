/** Reported as `hotswap_controller_build_info{version}`; bumped with the package version. */
export const CONTROLLER_VERSION = '0.1.0';

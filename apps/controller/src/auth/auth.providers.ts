import type { Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { ControllerConfig } from '../controller.config.js';
import { CONTROLLER_CONFIG } from '../controller.tokens.js';
import { AuthGuard } from './auth.guard.js';
import { TokenAuthenticator } from './token.authenticator.js';

/** Bearer-token authentication and the role check, as a global guard on every route. */
export const authProviders: Provider[] = [
  {
    provide: TokenAuthenticator,
    inject: [CONTROLLER_CONFIG],
    useFactory: (config: ControllerConfig) => new TokenAuthenticator(config.auth),
  },
  { provide: APP_GUARD, useClass: AuthGuard },
];

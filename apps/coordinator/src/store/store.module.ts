// The control plane's shared providers (global): the Store every feature module uses, and the
// access policy. coordinator.bootstrap.ts opens the store and closes it after the app.
import { DynamicModule, Global, Module } from '@nestjs/common';
import type { Store } from '../../../../libs/store/src/store';
import { ACCESS_POLICY, STORE, type AccessPolicy } from './store.tokens';

@Global()
@Module({})
export class StoreModule {
  static register(store: Store, policy: AccessPolicy): DynamicModule {
    return {
      module: StoreModule,
      providers: [{ provide: STORE, useValue: store }, { provide: ACCESS_POLICY, useValue: policy }],
      exports: [STORE, ACCESS_POLICY],
    };
  }
}

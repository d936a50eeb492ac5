// Injection tokens of the control plane: the Store (Redis or memory) and the access policy
// (whether /v1 needs a key before any exists, whether /metrics needs one).
export const STORE = Symbol('tpserve.Store');
export const ACCESS_POLICY = Symbol('tpserve.AccessPolicy');

export interface AccessPolicy {
  requireApiKey: boolean;
  metricsAuth: boolean;
}

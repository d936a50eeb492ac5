// The routes that never need an API key: probes for the orchestrator, and /metrics unless
// --metrics-auth closes it. Everything else (every /v1 route, also routes added later) needs one
// once keys exist or --require-api-key is set: the guard is global, this list is the exception.
const ALWAYS_OPEN = new Set(['/health', '/ready']);

export function isOpenRoute(path: string, metricsAuth: boolean): boolean {
  const route = path.split('?')[0].replace(/\/+$/, '') || '/';
  return ALWAYS_OPEN.has(route) || (!metricsAuth && route === '/metrics');
}

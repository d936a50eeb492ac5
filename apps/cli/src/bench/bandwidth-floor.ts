// The bandwidth floor of a decode step: the weight bytes it streams (ModelInfo.decodeBytesPerToken)
// over this host's memory read bandwidth, probed now. Used by bench:engine's rounds and by
// `tpserve generate --bandwidth-floor`.
import { loadAddon } from '../../../../libs/native/src/addon';

// The probe: well past the last-level cache, ~0.2 s (best of 5 passes).
const PROBE_BYTES = 256 << 20;

/** This host's memory read bandwidth now, GB/s, read by `threads` threads (the engine's pool size; it sets the pool). */
export function probeReadBandwidthGBps(threads: number): number {
  return loadAddon().measureBandwidth(PROBE_BYTES, threads);
}

/** The floor: the bytes a step streams at a measured read bandwidth, in ms. */
export function floorMs(bytesPerToken: number, bandwidthGBps: number): number {
  return (bytesPerToken / (bandwidthGBps * 1e9)) * 1000;
}


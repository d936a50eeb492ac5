// hostIdentity(): ranks with the same identity share a kernel (boot id), an IPC namespace (the
// shared-memory segment) and a network namespace; between them shared memory works. Pods of one
// node differ in their namespaces, so they count as different hosts, as do netns test "hosts".
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

function read(fn: () => string): string {
  try {
    return fn().trim();
  } catch {
    return '?';
  }
}

export function hostIdentity(): string {
  const boot = read(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8'));
  const ipc = read(() => readlinkSync('/proc/self/ns/ipc'));
  const net = read(() => readlinkSync('/proc/self/ns/net'));
  return `${hostname()}/${boot}/${ipc}/${net}`;
}

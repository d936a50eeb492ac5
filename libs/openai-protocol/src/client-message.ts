// What a server-side error may tell a client: no process ids and no paths of the server's file
// system (they help an attacker map the host and say nothing useful to the caller). The full
// message stays in the server's log. Tests: client-message.spec.ts.
const PID = /\s*\(?\bpid \d+\)?/g;
const ABSOLUTE_PATH = /(?<![\w:/.])\/(?:[\w.@+-]+\/)+[\w.@+-]+/g;

export function clientSafeMessage(message: string): string {
  return message.replace(PID, '').replace(ABSOLUTE_PATH, '<path>');
}

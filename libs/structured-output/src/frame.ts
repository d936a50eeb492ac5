// The frame contract shared by every node's matcher (see grammar-frame.ts): an immutable state
// that reads one symbol and answers the frames replacing it.

export interface Move {
  /** Frames replacing this one, bottom to top ([] = this node is complete). */
  next: Frame[];
  /** Hand the same symbol on to the new top (dispatch to a child, or end before it). */
  refeed: boolean;
}

export interface Frame {
  /** Identifies the state: frames with equal keys accept the same futures. */
  readonly key: string;
  step(symbol: number): Move[];
  /** Whether the node may end here without reading more (the automaton then tries the parent). */
  canEnd(): boolean;
}

export const DONE: Move[] = [{ next: [], refeed: false }];
export const NONE: Move[] = [];

export function replaceWith(frame: Frame): Move[] {
  return [{ next: [frame], refeed: false }];
}

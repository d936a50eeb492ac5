// ChatTemplate: compiles a Hugging Face chat template once and renders it byte-identically to
// Python jinja2 as transformers runs it (ImmutableSandboxedEnvironment, trim_blocks,
// lstrip_blocks, loopcontrols; globals raise_exception and strftime_now; transformers' tojson).
//
// How the gaps of @huggingface/jinja 0.5.11 are closed, without patching node_modules:
//  1. source: `{% generation %}` / `{% endgeneration %}` (transformers' AssistantTracker tags)
//     become `{% if true %}` / `{% endif %}`; they only mark spans and render their body.
//  2. parse with the library (lexer with trim_blocks + lstrip_blocks, parser), then wrap each
//     `{{ }}` in a PyOutput node so it prints Python's str() (`True`, `None`, `{'k': 1}`).
//  3. evaluate with PyInterpreter (py-interpreter.ts), a subclass that re-evaluates the node
//     kinds where JS and Python differ: integer dict keys, `| string` of bools/None/lists/dicts,
//     ==, +, in, comparisons, getattr/getitem, Undefined and its error hints, iteration, tests,
//     tojson/items/dictsort/trim/length. Errors carry the Python exception name (error.name:
//     TypeError, UndefinedError, TemplateError...) and its message.
// Known residual differences: JSON input cannot tell 1.0 from 1 (both print as 1); `%` string
// formatting and tests with arguments (`is divisibleby 3`) are not supported.
import { AnyNode, FnV, RV, TemplateRenderError, fn, isInt, jinja, list, num, numOf, str, NumV } from './jinja-runtime';
import { PyInterpreter, wrapOutputs } from './py-interpreter';
import { pyStr } from './py-semantics';
import { strftime } from './strftime';

export { TemplateRenderError };

/** Variables handed to the template (messages, tools, add_generation_prompt, bos_token, ...). */
export type TemplateContext = Record<string, unknown>;

function rewriteGenerationTags(source: string): string {
  return source
    .replace(/\{%(-?)\s*generation\s*(-?)%\}/g, '{%$1 if true $2%}')
    .replace(/\{%(-?)\s*endgeneration\s*(-?)%\}/g, '{%$1 endif $2%}');
}

/** Python's range(stop) / range(start, stop[, step]) as a list. */
function range(args: RV[]): RV {
  const [a, b, c] = args.map((v) => numOf(v as NumV));
  const [start, stop, step] = args.length === 1 ? [0, a, 1] : [a, b, c ?? 1];
  if (step === 0) throw new TemplateRenderError('ValueError', 'range() arg 3 must not be zero');
  const out: RV[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(num(i, false));
  return list(out);
}

const GLOBALS: Record<string, FnV> = {
  raise_exception: fn(([message]) => {
    throw new TemplateRenderError('TemplateError', message === undefined ? '' : pyStr(message));
  }),
  strftime_now: fn(([format]) => str(strftime(new Date(), format === undefined ? '' : pyStr(format)))),
  range: fn((args) => {
    if (!args.every(isInt)) throw new TemplateRenderError('TypeError', 'range() arguments must be integers');
    return range(args);
  }),
};
const CONSTANTS: Record<string, unknown> = { true: true, false: false, none: null, True: true, False: false, None: null };

export class ChatTemplate {
  private readonly program: AnyNode;

  /** Parses the template; throws TemplateRenderError('TemplateSyntaxError') when it cannot. */
  constructor(readonly source: string) {
    try {
      const tokens = jinja.tokenize(rewriteGenerationTags(source), { lstrip_blocks: true, trim_blocks: true });
      this.program = jinja.parse(tokens) as unknown as AnyNode;
    } catch (err) {
      throw new TemplateRenderError('TemplateSyntaxError', (err as Error).message);
    }
    wrapOutputs(this.program);
  }

  /** Renders with exactly these variables (no defaults added: see applyChatTemplate for that). */
  render(context: TemplateContext): string {
    const env = new jinja.Environment();
    for (const [name, value] of Object.entries(context)) {
      if (value === undefined) continue;
      env.variables.delete(name); // a context variable may shadow a built-in such as `namespace`
      env.set(name, value);
    }
    // Globals come after the context: a context variable of the same name wins, as in jinja2.
    for (const [name, value] of Object.entries(CONSTANTS)) if (!env.variables.has(name)) env.set(name, value);
    for (const [name, value] of Object.entries(GLOBALS)) if (!env.variables.has(name)) env.setVariable(name, value);
    try {
      return (new PyInterpreter(env).run(this.program as never) as RV & { value: string }).value;
    } catch (err) {
      if (err instanceof TemplateRenderError) throw err;
      throw new TemplateRenderError('TemplateError', err instanceof Error ? err.message : String(err));
    }
  }
}

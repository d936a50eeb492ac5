// Python jinja2 semantics the library lacks, as a table of template -> Python's output (or its
// exception). Expected values are what jinja2 3.1 prints under transformers' environment.
import { describe, expect, it } from 'vitest';
import { ChatTemplate } from './chat-template';
import { strRepr } from './py-semantics';

const render = (source: string, context: Record<string, unknown> = {}): string => new ChatTemplate(source).render(context);

describe('PyInterpreter output matches Python jinja2', () => {
  it.each<[string, string, Record<string, unknown>?]>([
    ['{{ true }}|{{ false }}|{{ none }}|{{ missing }}', 'True|False|None|'],
    ["{{ [1, 'a', none, true] }}", "[1, 'a', None, True]"],
    ["{{ {'a': 1, 'b': [1, 2]} }}", "{'a': 1, 'b': [1, 2]}"],
    ['{{ (1, 2) }}', '(1, 2)'],
    ['{{ x }}', "{'k': [\"it's\", 'a\\nb'], 'n': None}", { x: { k: ["it's", 'a\nb'], n: null } }],
    ['{{ 1.0 }} {{ 2.5 * 2 }} {{ 7 / 2 }} {{ 4 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }}', '1.0 5.0 3.5 2.0 3 -4 2 1024'],
    ['{{ x }} {{ y }}', '1e-05 0.1', { x: 1e-5, y: 0.1 }],
    ["{{ 'ab' * 3 }}|{{ 'a' ~ 1 ~ true ~ none ~ missing }}", 'ababab|a1TrueNone'],
    ["{{ [1] == [1] }} {{ 1 == 1.0 }} {{ '1' == 1 }} {{ ['a'] == 'a' }} {{ 0 == '' }} {{ [1] + [2] }}", 'True True False False False [1, 2]'],
    ["{{ 'é😀' | length }} {{ x | length }}", '2 3', { x: { a: 1, b: 2, c: 3 } }],
    ["{{ {2: 'b', 1: 'a'} | dictsort }} {{ {1: 'x'}[1] }} {{ {'k': 'v'} | items | list }}", "[(1, 'a'), (2, 'b')] x [('k', 'v')]"],
    ["{% for k, v in {'B': 1, 'a': 2} | dictsort %}{{ k }}{{ v }}{% endfor %}", 'a2B1'],
    ['{{ x | tojson }}', '{"a": [1, "é", 1.5], "b": null, "c": "<b>"}', { x: { a: [1, 'é', 1.5], b: null, c: '<b>' } }],
    ['{{ x | tojson(indent=2) }}', '{\n  "a": [\n    1,\n    2\n  ],\n  "b": {}\n}', { x: { a: [1, 2], b: {} } }],
    ['{{ x | tojson(ensure_ascii=True, sort_keys=True) }}', '{"a": "\\u00e9\\ud83d\\ude00", "b": 1}', { x: { b: 1, a: 'é😀' } }],
    ["{{ {1: true} | tojson }}", '{"1": true}'],
    ["{{ '  x \\n' | trim }}|{{ 'xxhixx'.strip('x') }}|{{ '  y'.lstrip() }}|{{ none | trim }}", 'x|hi|y|None'],
    ["{{ none | string }} {{ [1, none] | string }} {{ true | string }}", 'None [1, None] True'],
    ["{{ ['a', 'b'] | join(', ') }} {{ [1, true] | join }}", 'a, b 1True'],
    ["{% for c in 'ab' %}{{ c }},{% endfor %}{% for k in {'x': 1, 'y': 2} %}{{ k }}{% endfor %}", 'a,b,xy'],
    ['{% for x in missing %}{{ x }}{% else %}empty{% endfor %}', 'empty'],
    ['{{ {} is mapping }} {{ {} is iterable }} {{ true is number }} {{ 1 is integer }} {{ true is integer }} {{ 1.5 is float }}', 'True True True True False True'],
    ["{{ {'a': 1}.get('b', 2) }} {{ {'a': 1}.get('b') }} {{ {'a': 1}['a'] }} {{ [1][5] }}", '2 None 1 '],
    ["{{ 'a' if false }}|{{ missing | default('d') }}|{{ '' | d('e', true) }}", '|d|e'],
    ['{% set ns = namespace(n=0) %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}', '6'],
    ["{{ 'b' in ['a', 'b'] }} {{ 'x' in {'x': 1} }} {{ 1 in {1: 2} }} {{ 'lo' in 'hello' }} {{ 'a' in missing }}", 'True True True True False'],
    ["{{ 'a</think>\\nb'.split('</think>')[-1].lstrip('\\n') }}|{{ [1, 2, 3][::-1] }}|{{ (x | length - 1) - 1 }}", 'b|[3, 2, 1]|1', { x: [1, 2, 3] }],
    ["{% for m in x %}{% if loop.first %}[{% endif %}{{ loop.index0 }}{{ m.role }}{% if not loop.last %},{% endif %}{% endfor %}]", '[0user,1assistant]', { x: [{ role: 'user' }, { role: 'assistant' }] }],
    ['{{ [3, 1, 2] | sort }} {{ x | map(attribute="n") | list }}', '[1, 2, 3] [1, 2]', { x: [{ n: 1 }, { n: 2 }] }],
  ])('%s', (source, expected, context) => {
    expect(render(source, context)).toBe(expected);
  });
});

describe('PyInterpreter raises what Python jinja2 raises', () => {
  it.each<[string, string, Record<string, unknown>?]>([
    ['{{ foo.bar }}', "UndefinedError: 'foo' is undefined"],
    ['{{ x.y.z }}', "UndefinedError: 'dict object' has no attribute 'y'", { x: {} }],
    ['{{ [1][5].a }}', 'UndefinedError: list object has no element 5'],
    ["{{ 'a' + 1 }}", 'TypeError: can only concatenate str (not "int") to str'],
    ["{{ 1 + 'a' }}", "TypeError: unsupported operand type(s) for +: 'int' and 'str'"],
    ["{{ 'a' + none }}", 'TypeError: can only concatenate str (not "NoneType") to str'],
    ["{{ 'a' + missing }}", "UndefinedError: 'missing' is undefined"],
    ["{{ 1 in 'abc' }}", "TypeError: 'in <string>' requires string as left operand, not int"],
    ["{{ 'a' < 1 }}", "TypeError: '<' not supported between instances of 'str' and 'int'"],
    ['{{ 1 / 0 }}', 'ZeroDivisionError: division by zero'],
    ["{{ 'x' | items }}", 'TypeError: Can only get item pairs from a mapping.'],
    ['{{ x | tojson }}', 'TypeError: Object of type Undefined is not JSON serializable', { x: [undefined] }],
  ])('%s', (source, expected, context) => {
    let message = 'no error';
    try {
      render(source, context);
    } catch (err) {
      message = `${(err as Error).name}: ${(err as Error).message}`;
    }
    expect(message).toBe(expected);
  });
});

describe('repr helpers', () => {
  it.each([
    ['abc', "'abc'"], ["it's", '"it\'s"'], ['say "hi" it\'s', "'say \"hi\" it\\'s'"], ['\t\u0001é', "'\\t\\x01é'"],
  ])('strRepr(%j) = %s', (s, expected) => expect(strRepr(s)).toBe(expected));
});

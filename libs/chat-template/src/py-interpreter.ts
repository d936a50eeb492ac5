// PyInterpreter: @huggingface/jinja's Interpreter with the node kinds whose meaning differs
// from Python jinja2 re-evaluated here (everything else is the library's):
//   PyOutput          `{{ x }}` prints str(x): True, None, ['a'], {'k': 1}, 1.0
//   ObjectLiteral     dict literals with int/bool/None keys ({0: 0, 512: 128})
//   MemberExpression  jinja2 getattr/getitem order, int keys, Undefined with hints
//   BinaryExpression  Python ==, ordering, in, +, *, ~, arithmetic and their TypeErrors
//   FilterExpression  filters in PY_FILTERS (string, tojson, items, dictsort, trim, length...)
//   TestExpression    tests in PY_TESTS (iterable/mapping/number as Python sees them)
//   For               iterates dicts by key, strings by char, Undefined as empty
//   Identifier, CallExpression  raise/hint like jinja2's Undefined
// Sub-results computed here are handed back to the library as PyConst nodes, so nothing is
// evaluated twice. Tests: py-interpreter.spec.ts and chat-template.spec.ts.
import {
  AnyNode, Environment, ListV, Node, RV, bool, isTuple, isUndef, jinja, list, makeDict, num, str, undefinedError,
  undefinedWithHint, hasUndefinedHint,
} from './jinja-runtime';
import { PY_FILTERS, PY_TESTS } from './py-filters';
import { PY_BINARY_OPERATORS, binaryOp, getMember } from './py-operators';
import { pyIterate, pyStr } from './py-semantics';

const STATEMENT_TYPES = new Set([
  'Program', 'If', 'For', 'Break', 'Continue', 'Set', 'Macro', 'Comment', 'CallStatement', 'FilterStatement',
]);
const BLOCK_FIELDS = ['body', 'alternate', 'defaultBlock'];

/** Wraps every `{{ expression }}` (and text) of every block in a PyOutput node, in place. */
export function wrapOutputs(node: AnyNode): void {
  // The wrapper shares the library's Statement prototype so its AST visitors still descend into it.
  const statementProto = Object.getPrototypeOf(Object.getPrototypeOf(node)) ?? Object.prototype;
  for (const field of BLOCK_FIELDS) {
    const block = node[field];
    if (!Array.isArray(block)) continue;
    node[field] = block.map((child: AnyNode) => {
      wrapOutputs(child);
      if (STATEMENT_TYPES.has(child.type)) return child;
      return Object.assign(Object.create(statementProto), { type: 'PyOutput', expr: child });
    });
  }
}

const constNode = (value: RV): AnyNode => ({ type: 'PyConst', value }) as AnyNode;

export class PyInterpreter extends jinja.Interpreter {
  override evaluate(statement: Node | undefined, env: Environment): RV {
    const node = statement as AnyNode | undefined;
    switch (node?.type) {
      case 'PyConst':
        return node.value as RV;
      case 'PyOutput':
        return str(pyStr(this.evaluate(node.expr, env)));
      case 'Identifier': {
        const value = super.evaluate(node, env);
        return isUndef(value) && !hasUndefinedHint(value) ? undefinedWithHint(`'${node.value}' is undefined`) : value;
      }
      case 'ObjectLiteral':
        return makeDict([...(node.value as Map<Node, Node>)].map(([k, v]) => [this.evaluate(k, env), this.evaluate(v, env)]));
      case 'MemberExpression':
        return this.pyMember(node, env);
      case 'BinaryExpression':
        if (!PY_BINARY_OPERATORS.has(node.operator.value)) break;
        return binaryOp(node.operator.value, this.evaluate(node.left, env), this.evaluate(node.right, env));
      case 'FilterExpression':
        return this.pyFilter(node, env);
      case 'TestExpression': {
        const test = PY_TESTS.get(node.test.value);
        if (!test) break;
        return bool(test(this.evaluate(node.operand, env)) !== node.negate);
      }
      case 'For':
        return this.pyFor(node, env);
      case 'CallExpression': {
        const callee = this.evaluate(node.callee, env);
        if (isUndef(callee)) throw undefinedError(callee);
        return super.evaluate({ ...node, callee: constNode(callee) } as AnyNode, env);
      }
    }
    return super.evaluate(statement, env);
  }

  private pyMember(node: AnyNode, env: Environment): RV {
    if (node.computed && node.property.type === 'SliceExpression') return super.evaluate(node, env);
    const object = this.evaluate(node.object, env);
    if (node.computed) return getMember(object, this.evaluate(node.property, env), false);
    if (node.property.type === 'IntegerLiteral') return getMember(object, num(node.property.value, false), false);
    return getMember(object, str(node.property.value), true);
  }

  private pyFilter(node: AnyNode, env: Environment): RV {
    const isCall = node.filter.type === 'CallExpression';
    const name: string = isCall ? node.filter.callee.value : node.filter.value;
    const filter = PY_FILTERS.get(name);
    if (!filter) return super.evaluate(node, env);
    const operand = this.evaluate(node.operand, env);
    const args: RV[] = [];
    const kwargs = new Map<string, RV>();
    for (const argument of (isCall ? node.filter.args : []) as AnyNode[]) {
      if (argument.type === 'KeywordArgumentExpression') kwargs.set(argument.key.value, this.evaluate(argument.value, env));
      else args.push(this.evaluate(argument, env));
    }
    return filter(operand, args, kwargs, env);
  }

  private pyFor(node: AnyNode, env: Environment): RV {
    const isSelect = node.iterable.type === 'SelectExpression';
    let items = pyIterate(this.evaluate(isSelect ? node.iterable.lhs : node.iterable, env));
    // The library unpacks only plain lists: hand it tuples as lists when the loop unpacks.
    if (node.loopvar.type === 'TupleLiteral') items = items.map((x) => (isTuple(x) ? list((x as ListV).value) : x));
    const iterable = constNode(list(items));
    return super.evaluate({ ...node, iterable: isSelect ? { ...node.iterable, lhs: iterable } : iterable } as AnyNode, env);
  }
}


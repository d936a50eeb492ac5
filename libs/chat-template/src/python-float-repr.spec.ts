// repr(float) against values CPython prints (checked with python3 -c 'print(repr(x))').
import { describe, expect, it } from 'vitest';
import { floatRepr } from './python-float-repr';

describe('floatRepr (Python repr of a float)', () => {
  it.each([
    [0.1, '0.1'], [1e-5, '1e-05'], [1.5e16, '1.5e+16'], [1e15 + 0.5, '1000000000000000.5'], [123.456, '123.456'],
    [-0.0001, '-0.0001'], [1e22, '1e+22'], [Number.NaN, 'nan'], [-Infinity, '-inf'], [Infinity, 'inf'], [2.5, '2.5'],
    [100000, '100000.0'], [1e16, '1e+16'], [1e-4, '0.0001'], [1.25e-7, '1.25e-07'], [-3.75, '-3.75'], [1e100, '1e+100'],
    [123456789.125, '123456789.125'], [0, '0.0'], [-0, '-0.0'], [5e-324, '5e-324'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
  ])('floatRepr(%s) = %s', (x, expected) => expect(floatRepr(x)).toBe(expected));
});

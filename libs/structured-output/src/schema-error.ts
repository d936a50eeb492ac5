// A JSON Schema the grammar cannot enforce: names the keyword and where it is (a JSON pointer),
// so the API answers 400 with both.

export class SchemaError extends Error {
  constructor(
    readonly keyword: string,
    readonly pointer: string,
    detail: string,
  ) {
    super(`${detail} (keyword '${keyword}' at ${pointer === '' ? 'the schema root' : pointer})`);
  }
}

// A deliberately small GraphQL implementation for the Shopify simulator: enough of the
// October 2021 GraphQL spec (https://spec.graphql.org/October2021/) to parse the documents an
// Admin API client sends — operations, variables with defaults, arguments, aliases, directives,
// named and inline fragments, all value literals — validate them against a tiny schema, compute a
// Shopify-style query cost, and execute them against resolver objects.
//
// Not supported (answered with a GraphQL error): subscriptions, introspection.

export class GraphQLError extends Error {
  constructor(message, extensions = undefined, locations = undefined, path = undefined) {
    super(message);
    this.extensions = extensions;
    this.locations = locations;
    this.path = path;
  }

  toJSON() {
    const o = { message: this.message };
    if (this.locations) o.locations = this.locations;
    if (this.path) o.path = this.path;
    if (this.extensions) o.extensions = this.extensions;
    return o;
  }
}

// ---------------------------------------------------------------------------------------------
// Lexer

const PUNCT = new Set(['!', '$', '&', '(', ')', ':', '=', '@', '[', ']', '{', '|', '}']);

function lex(src) {
  const tokens = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const loc = () => ({ line, column: i - lineStart + 1 });
  while (i < src.length) {
    const c = src[i];
    if (c === '\n') { i++; line++; lineStart = i; continue; }
    if (c === ' ' || c === '\t' || c === '\r' || c === ',' || c === '\ufeff') { i++; continue; }
    if (c === '#') { while (i < src.length && src[i] !== '\n') i++; continue; }
    const start = loc();
    if (c === '.' && src.startsWith('...', i)) { tokens.push({ t: '...', loc: start }); i += 3; continue; }
    if (PUNCT.has(c)) { tokens.push({ t: c, loc: start }); i++; continue; }
    if (/[_A-Za-z]/.test(c)) {
      let j = i + 1;
      while (j < src.length && /[_0-9A-Za-z]/.test(src[j])) j++;
      tokens.push({ t: 'name', v: src.slice(i, j), loc: start });
      i = j;
      continue;
    }
    if (c === '-' || /[0-9]/.test(c)) {
      const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(src.slice(i));
      if (!m) throw new GraphQLError(`Parse error on "${c}" (${line}:${i - lineStart + 1})`);
      tokens.push({ t: m[2] || m[3] ? 'float' : 'int', v: m[0], loc: start });
      i += m[0].length;
      continue;
    }
    if (c === '"') {
      if (src.startsWith('"""', i)) {
        const end = src.indexOf('"""', i + 3);
        if (end < 0) throw new GraphQLError(`Parse error: unterminated block string (${line})`);
        const raw = src.slice(i + 3, end);
        tokens.push({ t: 'string', v: raw.replace(/\\"""/g, '"""'), loc: start });
        for (const ch of raw) if (ch === '\n') line++;
        i = end + 3;
        continue;
      }
      let j = i + 1;
      let out = '';
      while (j < src.length && src[j] !== '"') {
        if (src[j] === '\n') throw new GraphQLError(`Parse error: unterminated string (${line})`);
        if (src[j] === '\\') {
          const e = src[j + 1];
          const map = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
          if (e === 'u') { out += String.fromCharCode(parseInt(src.slice(j + 2, j + 6), 16)); j += 6; continue; }
          if (!(e in map)) throw new GraphQLError(`Parse error: bad escape \\${e}`);
          out += map[e]; j += 2; continue;
        }
        out += src[j++];
      }
      if (j >= src.length) throw new GraphQLError(`Parse error: unterminated string (${line})`);
      tokens.push({ t: 'string', v: out, loc: start });
      i = j + 1;
      continue;
    }
    throw new GraphQLError(`Parse error on "${c}" (${line}:${i - lineStart + 1})`);
  }
  tokens.push({ t: 'eof', loc: loc() });
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Parser

export function parse(src) {
  const tk = lex(src);
  let p = 0;
  const peek = () => tk[p];
  const next = () => tk[p++];
  const fail = (tok, what) => {
    const desc = tok.t === 'eof' ? 'end of file' : tok.v ?? tok.t;
    throw new GraphQLError(`Parse error on "${desc}" (${tok.t.toUpperCase()}) at [${tok.loc.line}, ${tok.loc.column}]${what ? `: expected ${what}` : ''}`);
  };
  const expect = (t, v) => {
    const tok = next();
    if (tok.t !== t || (v !== undefined && tok.v !== v)) fail(tok, v ?? t);
    return tok;
  };
  const isName = (v) => peek().t === 'name' && (v === undefined || peek().v === v);

  function value(isConst) {
    const tok = peek();
    if (tok.t === '$') {
      if (isConst) fail(tok, 'constant value');
      next();
      return { kind: 'Variable', name: expect('name').v };
    }
    if (tok.t === 'int') { next(); return { kind: 'Int', value: Number(tok.v) }; }
    if (tok.t === 'float') { next(); return { kind: 'Float', value: Number(tok.v) }; }
    if (tok.t === 'string') { next(); return { kind: 'String', value: tok.v }; }
    if (tok.t === 'name') {
      next();
      if (tok.v === 'true' || tok.v === 'false') return { kind: 'Boolean', value: tok.v === 'true' };
      if (tok.v === 'null') return { kind: 'Null' };
      return { kind: 'Enum', value: tok.v };
    }
    if (tok.t === '[') {
      next();
      const values = [];
      while (peek().t !== ']') { if (peek().t === 'eof') fail(peek(), ']'); values.push(value(isConst)); }
      next();
      return { kind: 'List', values };
    }
    if (tok.t === '{') {
      next();
      const fields = [];
      while (peek().t !== '}') {
        if (peek().t === 'eof') fail(peek(), '}');
        const name = expect('name').v;
        expect(':');
        fields.push({ name, value: value(isConst) });
      }
      next();
      return { kind: 'Object', fields };
    }
    return fail(tok, 'value');
  }

  function args() {
    const out = [];
    if (peek().t !== '(') return out;
    next();
    while (peek().t !== ')') {
      const name = expect('name').v;
      expect(':');
      out.push({ name, value: value(false) });
    }
    next();
    return out;
  }

  function directives() {
    const out = [];
    while (peek().t === '@') { next(); out.push({ name: expect('name').v, args: args() }); }
    return out;
  }

  function selectionSet() {
    expect('{');
    const sels = [];
    while (peek().t !== '}') {
      if (peek().t === 'eof') fail(peek(), '}');
      if (peek().t === '...') {
        const at = next().loc;
        if (isName('on')) {
          next();
          const typeCondition = expect('name').v;
          sels.push({ kind: 'InlineFragment', typeCondition, directives: directives(), selectionSet: selectionSet(), loc: at });
        } else if (peek().t === 'name') {
          sels.push({ kind: 'FragmentSpread', name: next().v, directives: directives(), loc: at });
        } else {
          sels.push({ kind: 'InlineFragment', typeCondition: null, directives: directives(), selectionSet: selectionSet(), loc: at });
        }
        continue;
      }
      const first = expect('name');
      let alias = null;
      let name = first.v;
      if (peek().t === ':') { next(); alias = name; name = expect('name').v; }
      const a = args();
      const d = directives();
      const ss = peek().t === '{' ? selectionSet() : null;
      sels.push({ kind: 'Field', alias, name, args: a, directives: d, selectionSet: ss, loc: first.loc });
    }
    next();
    return sels;
  }

  function typeRef() {
    let t;
    if (peek().t === '[') { next(); t = { list: typeRef() }; expect(']'); } else t = { name: expect('name').v };
    if (peek().t === '!') { next(); t.nonNull = true; }
    return t;
  }

  const doc = { operations: [], fragments: {} };
  while (peek().t !== 'eof') {
    const tok = peek();
    if (tok.t === '{') { doc.operations.push({ operation: 'query', name: null, variables: [], directives: [], selectionSet: selectionSet() }); continue; }
    if (tok.t !== 'name') fail(tok, 'definition');
    if (tok.v === 'fragment') {
      next();
      const name = expect('name').v;
      expect('name', 'on');
      const typeCondition = expect('name').v;
      doc.fragments[name] = { name, typeCondition, directives: directives(), selectionSet: selectionSet() };
      continue;
    }
    if (!['query', 'mutation', 'subscription'].includes(tok.v)) fail(tok, 'query, mutation or fragment');
    next();
    const op = { operation: tok.v, name: null, variables: [], directives: [], selectionSet: null };
    if (isName()) op.name = next().v;
    if (peek().t === '(') {
      next();
      while (peek().t !== ')') {
        expect('$');
        const vname = expect('name').v;
        expect(':');
        const type = typeRef();
        let def;
        if (peek().t === '=') { next(); def = value(true); }
        directives();
        op.variables.push({ name: vname, type, defaultValue: def });
      }
      next();
    }
    op.directives = directives();
    op.selectionSet = selectionSet();
    doc.operations.push(op);
  }
  if (doc.operations.length === 0) throw new GraphQLError('Parse error: no operation in document');
  return doc;
}

// ---------------------------------------------------------------------------------------------
// Values

export function valueToJs(node, vars) {
  switch (node.kind) {
    case 'Variable': return vars[node.name] === undefined ? undefined : vars[node.name];
    case 'Int': case 'Float': case 'String': case 'Boolean': case 'Enum': return node.value;
    case 'Null': return null;
    case 'List': return node.values.map((v) => valueToJs(v, vars));
    case 'Object': {
      const o = {};
      for (const f of node.fields) {
        const v = valueToJs(f.value, vars);
        if (v !== undefined) o[f.name] = v; // an unset variable inside an object: field omitted
      }
      return o;
    }
    default: return undefined;
  }
}

export function argsToJs(args, vars) {
  const o = {};
  for (const a of args) {
    const v = valueToJs(a.value, vars);
    if (v !== undefined) o[a.name] = v;
  }
  return o;
}

/** The operation to run, with variables coerced (defaults applied, non-null checked). */
export function selectOperation(doc, operationName, variables = {}) {
  let op;
  if (operationName) {
    op = doc.operations.find((o) => o.name === operationName);
    if (!op) throw new GraphQLError(`No operation named "${operationName}"`);
  } else {
    if (doc.operations.length > 1) throw new GraphQLError('An operation name is required');
    op = doc.operations[0];
  }
  const vars = {};
  for (const v of op.variables) {
    let val = variables?.[v.name];
    if (val === undefined && v.defaultValue) val = valueToJs(v.defaultValue, {});
    if ((val === undefined || val === null) && v.type.nonNull) {
      throw new GraphQLError(`Variable $${v.name} of type ${typeToString(v.type)} was provided invalid value`, { code: 'INVALID_VARIABLE', value: val ?? null, problems: [{ path: [], explanation: 'Expected value to not be null' }] });
    }
    if (val !== undefined) vars[v.name] = val;
  }
  return { op, vars };
}

function typeToString(t) {
  return (t.list ? `[${typeToString(t.list)}]` : t.name) + (t.nonNull ? '!' : '');
}

function skipped(directives, vars) {
  for (const d of directives ?? []) {
    const a = argsToJs(d.args, vars);
    if (d.name === 'skip' && a.if === true) return true;
    if (d.name === 'include' && a.if === false) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Schema, validation, cost
//
// schema = { types: { TypeName: { fieldName: { type: 'Other' | '[Other]' | 'String', args?: [...],
//            connection?: true, cost?: n } } }, scalars: Set([...]) }

const BUILTIN_SCALARS = new Set(['String', 'Int', 'Float', 'Boolean', 'ID']);

function baseType(t) { return t.replace(/[[\]!]/g, ''); }

/**
 * Walks the selection set against the schema: reports unknown fields / missing selections and
 * computes a requested cost the way Shopify describes it (scalars and enums 0, objects 1,
 * connections 2 + `first` × the cost of one node, mutation root fields 10).
 */
export function validateAndCost(schema, doc, op, vars, rootType) {
  const errors = [];
  const isScalar = (t) => BUILTIN_SCALARS.has(t) || schema.scalars.has(t);

  function walk(typeName, selections, path, fragmentGuard) {
    let cost = 0;
    const type = schema.types[typeName];
    for (const sel of selections) {
      if (skipped(sel.directives, vars)) continue;
      if (sel.kind === 'FragmentSpread') {
        const frag = doc.fragments[sel.name];
        if (!frag) { errors.push(new GraphQLError(`Fragment ${sel.name} was used, but not defined`, { code: 'useAndDefineFragment', fragmentName: sel.name })); continue; }
        if (fragmentGuard.has(sel.name)) { errors.push(new GraphQLError(`Fragment ${sel.name} contains an infinite loop`)); continue; }
        const t = schema.types[frag.typeCondition] ? frag.typeCondition : typeName;
        if (t !== typeName) continue; // no interfaces/unions in this schema: other types never match
        cost += walk(t, frag.selectionSet, path, new Set([...fragmentGuard, sel.name]));
        continue;
      }
      if (sel.kind === 'InlineFragment') {
        if (sel.typeCondition && sel.typeCondition !== typeName) continue;
        cost += walk(typeName, sel.selectionSet, path, fragmentGuard);
        continue;
      }
      if (sel.name === '__typename') continue;
      const f = type?.[sel.name];
      const p = [...path, sel.alias ?? sel.name];
      if (!f) {
        errors.push(new GraphQLError(`Field '${sel.name}' doesn't exist on type '${typeName}'`, { code: 'undefinedField', typeName, fieldName: sel.name }, [sel.loc], p));
        continue;
      }
      const t = baseType(f.type);
      if (isScalar(t) || f.enum) {
        if (sel.selectionSet) errors.push(new GraphQLError(`Selections can't be made on scalars (field '${sel.name}' returns ${t} but has selections [...])`, { code: 'selectionMismatch' }, [sel.loc], p));
        continue;
      }
      if (!sel.selectionSet) {
        errors.push(new GraphQLError(`Field must have selections (field '${sel.name}' returns ${t} but has no selections. Did you mean '${sel.name} { ... }'?)`, { code: 'selectionMismatch' }, [sel.loc], p));
        continue;
      }
      const a = argsToJs(sel.args, vars);
      for (const req of f.required ?? []) {
        if (a[req] === undefined) errors.push(new GraphQLError(`Field '${sel.name}' is missing required arguments: ${req}`, { code: 'missingRequiredArguments', className: 'Field', name: sel.name, arguments: req }, [sel.loc], p));
      }
      const inner = walk(t, sel.selectionSet, p, fragmentGuard);
      if (f.connection) {
        const n = Number(a.first ?? a.last ?? 0) || 0;
        cost += 2 + n * inner;
      } else {
        cost += (f.cost ?? 1) + inner;
      }
    }
    return cost;
  }

  const cost = walk(rootType, op.selectionSet, [], new Set());
  return { errors, cost };
}

// ---------------------------------------------------------------------------------------------
// Execution
//
// An object is a plain JS object whose fields are values or functions (args, ctx) => value.
// Lists of objects are arrays. Field errors thrown by resolvers become GraphQL errors with a path.

export async function execute(doc, op, vars, root, ctx = {}) {
  const errors = [];

  async function resolveObject(obj, selections, path, typeName) {
    const out = {};
    for (const sel of collect(selections)) {
      const key = sel.alias ?? sel.name;
      const p = [...path, key];
      if (sel.name === '__typename') { out[key] = obj.__typename ?? typeName; continue; }
      let v = obj[sel.name];
      try {
        if (typeof v === 'function') v = await v(argsToJs(sel.args, vars), ctx);
        out[key] = await complete(v, sel, p);
      } catch (e) {
        errors.push(e instanceof GraphQLError ? Object.assign(e, { path: p }) : new GraphQLError(String(e?.message ?? e), undefined, [sel.loc], p));
        out[key] = null;
      }
    }
    return out;
  }

  async function complete(v, sel, path) {
    if (v === null || v === undefined) return null;
    if (!sel.selectionSet) return v;
    if (Array.isArray(v)) {
      const res = [];
      for (let i = 0; i < v.length; i++) res.push(await complete(v[i], sel, [...path, i]));
      return res;
    }
    return resolveObject(v, sel.selectionSet, path, v.__typename);
  }

  function collect(selections) {
    const out = [];
    for (const sel of selections) {
      if (skipped(sel.directives, vars)) continue;
      if (sel.kind === 'Field') out.push(sel);
      else if (sel.kind === 'InlineFragment') out.push(...collect(sel.selectionSet));
      else if (sel.kind === 'FragmentSpread' && doc.fragments[sel.name]) out.push(...collect(doc.fragments[sel.name].selectionSet));
    }
    return out;
  }

  const data = await resolveObject(root, op.selectionSet, [], op.operation === 'mutation' ? 'Mutation' : 'QueryRoot');
  return { data, errors };
}

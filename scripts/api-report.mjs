#!/usr/bin/env node
// The public surface, pinned: every name each entry point of package.json exports, with its kind and
// signature, written to api/onbehalf.api.md from the TypeScript sources. A change to the surface shows
// up as a diff of that file in review; `--check` fails (exit 1) when the file is not what the sources
// export, so an unreviewed change fails CI.
//
//   node scripts/api-report.mjs           rewrite api/onbehalf.api.md
//   node scripts/api-report.mjs --check   compare only
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const reportPath = join(root, 'api', 'onbehalf.api.md');
const check = process.argv.includes('--check');

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
/** Entry point → its source file, from the `types` path of each export. */
const entries = Object.entries(pkg.exports)
  .filter(([, target]) => typeof target === 'object' && target.types)
  .map(([subpath, target]) => ({
    specifier: subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`,
    source: join(root, target.types.replace(/^\.\/dist\//, 'src/').replace(/\.d\.ts$/, '.ts')),
  }));

const config = ts.getParsedCommandLineOfConfigFile(
  join(root, 'tsconfig.build.json'),
  {},
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  },
);
const program = ts.createProgram({ rootNames: entries.map((e) => e.source), options: config.options });
const checker = program.getTypeChecker();
const FLAGS =
  ts.TypeFormatFlags.NoTruncation |
  ts.TypeFormatFlags.UseAliasDefinedOutsideCurrentScope |
  ts.TypeFormatFlags.WriteArrowStyleSignature;

/** Types print as they read in the source, without the `import("/abs/path").` the checker may add. */
const clean = (text) => text.replace(/import\("[^"]*"\)\./g, '').replace(/\s+/g, ' ');
const typeText = (type, at) => clean(checker.typeToString(type, at, FLAGS));
const signatureText = (signature, at) => clean(checker.signatureToString(signature, at, FLAGS));

function isPublicMember(declaration) {
  const flags = ts.getCombinedModifierFlags(declaration);
  if (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) return false;
  return !(declaration.name && ts.isPrivateIdentifier(declaration.name));
}

function memberLines(type, at, prefix = '') {
  const lines = [];
  for (const member of checker.getPropertiesOfType(type)) {
    const declaration = member.valueDeclaration ?? member.declarations?.[0];
    if (!declaration || !isPublicMember(declaration)) continue;
    // What a class inherits from Error or another platform type is not onbehalf's surface.
    if (declaration.getSourceFile().fileName.includes('/node_modules/')) continue;
    const memberType = checker.getTypeOfSymbolAtLocation(member, at);
    const optional = member.flags & ts.SymbolFlags.Optional ? '?' : '';
    const readonly = ts.getCombinedModifierFlags(declaration) & ts.ModifierFlags.Readonly ? 'readonly ' : '';
    if (member.flags & ts.SymbolFlags.Method) {
      for (const sig of memberType.getCallSignatures()) {
        lines.push(`${prefix}${member.name}${optional}${signatureText(sig, at).replace(/ =>/, ':')}`);
      }
    } else {
      lines.push(`${prefix}${readonly}${member.name}${optional}: ${typeText(memberType, at)}`);
    }
  }
  return lines.sort();
}

function describe(exported, at) {
  const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
  const f = symbol.flags;
  if (f & ts.SymbolFlags.Class) {
    const staticType = checker.getTypeOfSymbolAtLocation(symbol, at);
    const instance = checker.getDeclaredTypeOfSymbol(symbol);
    const ctors = staticType
      .getConstructSignatures()
      .map((s) => `  constructor${signatureText(s, at).replace(/ => .*$/, '')}`);
    const statics = memberLines(staticType, at, '  static ').filter(
      (line) => !line.startsWith('  static readonly prototype:') && !line.startsWith('  static prototype:'),
    );
    const heritage = (instance.getBaseTypes() ?? []).map((b) => typeText(b, at));
    return {
      kind: 'class',
      lines: [
        `class ${exported.name}${heritage.length ? ` extends ${heritage.join(', ')}` : ''}`,
        ...ctors,
        ...statics,
        ...memberLines(instance, at, '  '),
      ],
    };
  }
  if (f & ts.SymbolFlags.Function) {
    const type = checker.getTypeOfSymbolAtLocation(symbol, at);
    return {
      kind: 'function',
      lines: type
        .getCallSignatures()
        .map((s) => `function ${exported.name}${signatureText(s, at).replace(/ =>/, ':')}`),
    };
  }
  if (f & ts.SymbolFlags.Interface) {
    const type = checker.getDeclaredTypeOfSymbol(symbol);
    const heritage = (type.getBaseTypes() ?? []).map((b) => typeText(b, at));
    return {
      kind: 'interface',
      lines: [
        `interface ${exported.name}${heritage.length ? ` extends ${heritage.join(', ')}` : ''}`,
        ...memberLines(type, at, '  '),
        ...type.getCallSignatures().map((s) => `  ${signatureText(s, at)}`),
      ],
    };
  }
  if (f & ts.SymbolFlags.TypeAlias) {
    const declaration = symbol.declarations.find(ts.isTypeAliasDeclaration);
    return { kind: 'type', lines: [`type ${exported.name} = ${clean(declaration.type.getText())}`] };
  }
  if (f & ts.SymbolFlags.Variable) {
    const type = checker.getTypeOfSymbolAtLocation(symbol, at);
    return { kind: 'const', lines: [`const ${exported.name}: ${typeText(type, at)}`] };
  }
  return { kind: 'other', lines: [exported.name] };
}

const out = [
  '# The public API of onbehalf',
  '',
  'Written by `node scripts/api-report.mjs` from the sources; CI runs it with `--check`. A change here',
  'is a change users see: review it as one (a removed or changed name is a breaking change).',
  '',
];
for (const entry of entries) {
  const file = program.getSourceFile(entry.source);
  if (!file) throw new Error(`${entry.source}: not found`);
  const moduleSymbol = checker.getSymbolAtLocation(file);
  const exported = moduleSymbol ? checker.getExportsOfModule(moduleSymbol) : [];
  const described = exported
    .map((symbol) => ({ name: symbol.name, ...describe(symbol, file) }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const values = described.filter((d) => !['interface', 'type'].includes(d.kind)).length;
  out.push(`## ${entry.specifier}`, '');
  out.push(`${described.length} names (${values} values, ${described.length - values} types).`, '');
  if (described.length > 0) {
    out.push('```ts');
    for (const d of described) out.push(...d.lines);
    out.push('```', '');
  }
}
const report = `${out.join('\n').trimEnd()}\n`;

if (check) {
  const current = existsSync(reportPath) ? readFileSync(reportPath, 'utf8') : '';
  if (current !== report) {
    const was = new Set(current.split('\n'));
    const now = new Set(report.split('\n'));
    const removed = [...was].filter((line) => !now.has(line)).map((line) => `- ${line}`);
    const added = [...now].filter((line) => !was.has(line)).map((line) => `+ ${line}`);
    console.error(
      `api/onbehalf.api.md is not what the sources export. Review the change and run \`node scripts/api-report.mjs\`:\n${[...removed, ...added].slice(0, 60).join('\n')}`,
    );
    process.exit(1);
  }
  console.log('api/onbehalf.api.md matches the sources');
} else {
  writeFileSync(reportPath, report);
  console.log(`wrote ${reportPath}`);
}

import ts from "typescript";
import { readdirSync, existsSync } from "node:fs";
const root = process.argv[2] ?? ".";
const out = {};
for (const dir of ["packages"]) for (const p of readdirSync(`${root}/${dir}`)) {
  const f = `${root}/${dir}/${p}/src/index.ts`;
  if (!existsSync(f)) continue;
  const prog = ts.createProgram([f], { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, allowImportingTsExtensions: true, noEmit: true, customConditions: ["@contrast/source"] });
  const c = prog.getTypeChecker();
  const sf = prog.getSourceFile(f);
  const sym = c.getSymbolAtLocation(sf);
  const names = sym ? c.getExportsOfModule(sym).map((s) => s.name) : [];
  out[p] = names.length;
}
console.log(JSON.stringify(out));

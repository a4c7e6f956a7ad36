// QKViz's floors, checked by `npm run deps` (a stage of `npm test`): lib/ is built in layers,
// each importing only its own floor and those below, so the data path reads bottom-up; lib/protocol
// is the roof (it imports; nothing in lib/ imports it); the React folders stay out of workers and
// of lib/; and nothing is circular.

/** lib/'s floors, lowest first; folders on one floor may import each other only where `within` says. */
const FLOORS = [
  ['util', 'io', 'wasm', 'worker', 'runtime', 'onnx', 'image'],
  ['data'],
  ['model', 'corpus', 'analysis', 'projection', 'store'],
  ['engine'],
  ['views'],
  ['run'],
  ['node', 'bench', 'browser'],
  ['protocol'],
];
/** Imports allowed between folders of one floor (importer → imported). */
const WITHIN = { projection: ['analysis'], onnx: ['util', 'io'], io: ['util'], wasm: ['util'], worker: ['util'], store: ['io', 'util'] };

const floorOf = Object.fromEntries(FLOORS.flatMap((folders, floor) => folders.map((f) => [f, floor])));
const above = (floor) => FLOORS.slice(floor + 1).flat();
const lib = (folders) => `^lib/(${folders.join('|')})/`;

const floorRules = Object.entries(floorOf).flatMap(([folder, floor]) => {
  const peers = FLOORS[floor].filter((f) => f !== folder && !(WITHIN[folder] ?? []).includes(f));
  const rules = [];
  if (above(floor).length)
    rules.push({
      name: `lib-${folder}-looks-down`,
      comment: `lib/${folder} is on floor ${floor}: it imports only folders below it (${FLOORS.slice(0, floor).flat().join(', ') || 'none'})`,
      severity: 'error',
      from: { path: `^lib/${folder}/` },
      to: { path: lib(above(floor)) },
    });
  if (peers.length)
    rules.push({
      name: `lib-${folder}-not-its-peers`,
      comment: `lib/${folder} does not import the other folders of its floor (${peers.join(', ')})`,
      severity: 'error',
      from: { path: `^lib/${folder}/` },
      to: { path: lib(peers) },
    });
  return rules;
});

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'An import circle: split the shared piece out to a lower floor.', from: {}, to: { circular: true } },
    ...floorRules,
    {
      name: 'lib-has-no-react',
      comment: 'lib/ is plain TypeScript: it runs in Node (tests, CLI) and in workers.',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^(components|app|workers)/' },
    },
    {
      name: 'lib-folders-know-every-floor',
      comment: 'A new lib/ folder needs its floor in .dependency-cruiser.cjs.',
      severity: 'error',
      from: { path: '^lib/', pathNot: lib(Object.keys(floorOf)) },
      to: {},
    },
    {
      name: 'workers-import-no-react-folder',
      comment: 'Workers are thin adapters over lib/ (the React shell is not loaded into them).',
      severity: 'error',
      from: { path: '^workers/' },
      to: { path: '^(components|app)/' },
    },
    {
      name: 'node-only-in-node',
      comment: 'Only lib/node (and the CLI, benchmarks, tests) may use Node built-ins; the rest of lib/ runs in browsers too.',
      severity: 'error',
      from: { path: '^(lib|components|app|workers)/', pathNot: '^lib/(node|bench)/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'page-does-not-load-lib-node',
      severity: 'error',
      from: { path: '^(components|app|workers)/' },
      to: { path: '^lib/node/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|\\.next|public|tests/fixtures)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};

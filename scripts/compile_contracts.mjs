// Compile the agent's Solidity contracts with solc (npm) into one JSON artifact of ABIs and bytecode.
// Usage: node scripts/compile_contracts.mjs [output.json]   (default: ultimate_agent/chain/contracts/artifacts.json)
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const solc = require('solc')
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const sourceDir = path.join(root, 'ultimate_agent', 'chain', 'contracts')
const output = process.argv[2] ?? path.join(sourceDir, 'artifacts.json')
// Fixed so that the artifacts are reproducible and run on every EVM network the agent targets.
const EVM_VERSION = 'cancun'

const sources = {}
for (const name of fs.readdirSync(sourceDir).filter((f) => f.endsWith('.sol')).sort()) {
  sources[name] = { content: fs.readFileSync(path.join(sourceDir, name), 'utf8') }
}

function findImports (importPath) {
  try {
    return { contents: fs.readFileSync(require.resolve(importPath), 'utf8') }
  } catch (error) {
    return { error: `not found: ${importPath}` }
  }
}

const input = {
  language: 'Solidity',
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: EVM_VERSION,
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } }
  }
}
const result = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }))
const errors = (result.errors ?? []).filter((e) => e.severity === 'error')
if (errors.length) {
  for (const e of errors) console.error(e.formattedMessage)
  process.exit(1)
}
const contracts = {}
for (const file of Object.keys(sources)) {
  for (const [name, compiled] of Object.entries(result.contracts[file])) {
    contracts[name] = { source: file, abi: compiled.abi, bytecode: '0x' + compiled.evm.bytecode.object }
  }
}
const artifact = { compiler: `solc ${solc.version()}`, evm_version: EVM_VERSION, contracts }
fs.writeFileSync(output, JSON.stringify(artifact, null, 1) + '\n')
console.log(`compiled ${Object.keys(contracts).join(', ')} with solc ${solc.version()} -> ${path.relative(process.cwd(), output)}`)

// What the CLI's dev commands (`ciu simulate`, `ciu start`) load from the dev kit, by dynamic import only:
// the worker, workflows, activities and the libraries they use never import anything under devkit/.
export { startFleet } from './simulator/fleet';
export { parseFaultSpecs } from './simulator/fault-spec';
export { runDemo } from './demo/run';

// The one module the worker bundles: every workflow type and message definition.
export { masterUpgrade, type MasterCarried, type MasterOptions } from './master-upgrade';
export {
  controllerUpgrade,
  type ControllerCarried,
  type ControllerUpgradeInput,
  type ControllerUpgradeResult,
} from './controller-upgrade';
export * from './definitions';

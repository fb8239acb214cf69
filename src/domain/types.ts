// The domain's types, each inferred from its schema in ./schemas (the one definition); imported from here by name.
export type {
  CampaignConfig,
  Controller,
  ImageServer,
  ImageSource,
  ModelImage,
  SshEndpoint,
  TargetSelector,
  UpgradeProfile,
} from './schemas';
export type { Protocol } from './rules';

import { combinedSteps, type StepActivities } from '../activities/combined';
import type { UpgradeActivities, VerifiedImage } from '../activities/types';

/** The verified image every instant activity agrees on. */
export const benchImage: VerifiedImage = {
  imageType: '72xx',
  version: '6.4.0.0',
  build: 81234,
  payloadLength: 1,
  payloadSha256: 'ab'.repeat(32),
  bytesRead: 64,
};

const single = {
  verifyImage: async () => benchImage,
  inspectController: async (c) => ({
    model: c.model,
    runningVersion: '6.3.1.0',
    runningBuild: 1,
    bootPartition: 0,
    partitions: [],
  }),
  inspectStorage: async () => ({ freeBytes: 1 << 30, sizeBytes: 2 << 30 }),
  inspectHealth: async () => ({ found: true, status: 'up' }),
  downloadImage: async () => ({ bytes: 1 }),
  verifyImageOnController: async () => undefined,
  logOnController: async () => undefined,
  rebootController: async () => undefined,
  loadCampaignConfig: async () => {
    throw new Error('the bench passes its configs inline');
  },
} satisfies StepActivities;

/** ciu's activities doing nothing: what is left of a campaign's time is orchestration. */
export const instantActivities: UpgradeActivities = { ...single, ...combinedSteps(single) };

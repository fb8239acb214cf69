/**
 * The custom search attributes ciu writes, by name and Temporal type. Pure data: the dev-server
 * launcher registers them, workflows/ turns them into typed keys. Keep the list short — each one is
 * an index on the server.
 */
export const ciuSearchAttributes = {
  /** Campaign (master workflow ID) a controller belongs to. */
  CiuCampaign: 'Keyword',
  /** Controller IP address, e.g. 10.1.4.17. */
  CiuController: 'Keyword',
  /** Controller model, e.g. A7210. */
  CiuModel: 'Keyword',
  /** Machine state word, e.g. waiting-retry (see src/domain/status.ts). */
  CiuState: 'Keyword',
  /** Download attempts so far. */
  CiuAttempts: 'Int',
  /** The master's campaign state: running, paused, halted (a failure budget) or completed. */
  CiuCampaignState: 'Keyword',
} as const;

export type CiuSearchAttributeName = keyof typeof ciuSearchAttributes;

import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { CiuSearchAttributeName } from '../src/domain/search-attributes';

// Names are checked against src/domain/search-attributes.ts, which the dev-server launcher registers.
const name = (n: CiuSearchAttributeName) => n;

/** Typed keys for ciu's custom search attributes. */
export const campaignKey = defineSearchAttributeKey(name('CiuCampaign'), SearchAttributeType.KEYWORD);
export const controllerKey = defineSearchAttributeKey(name('CiuController'), SearchAttributeType.KEYWORD);
export const modelKey = defineSearchAttributeKey(name('CiuModel'), SearchAttributeType.KEYWORD);
export const stateKey = defineSearchAttributeKey(name('CiuState'), SearchAttributeType.KEYWORD);
export const attemptsKey = defineSearchAttributeKey(name('CiuAttempts'), SearchAttributeType.INT);
export const campaignStateKey = defineSearchAttributeKey(
  name('CiuCampaignState'),
  SearchAttributeType.KEYWORD,
);

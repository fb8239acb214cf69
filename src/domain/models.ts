/**
 * Controller models ciu knows, and the platform family (image type) each one boots. An image's
 * header names its family; a controller only accepts an image built for its own family, the way
 * ArubaOS_72xx_* images only boot on 72xx controllers.
 */
export const modelFamilies = {
  A7005: '70xx',
  A7008: '70xx',
  A7010: '70xx',
  A7024: '70xx',
  A7030: '70xx',
  A7205: '72xx',
  A7210: '72xx',
  A7220: '72xx',
  A7240: '72xx',
  A7280: '72xx',
  A3200: 'MMC',
  A3400: 'MMC',
  A3600: 'MMC',
  M3: 'MMC',
  A650: '6xx',
  A651: '6xx',
} as const;

export type ControllerModel = keyof typeof modelFamilies;
export type ImageType = (typeof modelFamilies)[ControllerModel];

export const knownModels = Object.keys(modelFamilies) as ControllerModel[];

export function isKnownModel(model: string): model is ControllerModel {
  return Object.prototype.hasOwnProperty.call(modelFamilies, model);
}

/** The image type a model boots, or undefined for a model ciu does not know. */
export function imageTypeFor(model: string): ImageType | undefined {
  return isKnownModel(model) ? modelFamilies[model] : undefined;
}

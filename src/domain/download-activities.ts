/**
 * The activities that copy an image onto a controller and heartbeat { bytes, totalBytes } while they
 * run: status reads live bytes from them and the download counters count them. downloadImage alone
 * is what children started before the `child-fewer-tasks` patch still run.
 */
export const downloadActivityTypes: readonly string[] = ['downloadImage', 'downloadAndVerifyImage'];

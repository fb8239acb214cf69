/**
 * The failure converter workers (and their workflow bundle: `failureConverterPath`) and clients use.
 * A failure's message and stack travel as an encoded payload, so the payload codec encrypts error
 * texts too; clients and the codec server decode them back. Without a codec they are plain JSON.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });

import {
  failureTypes,
  failureWording,
  isPermanentFailureType,
  operatorHint,
  permanentFailureTypes,
} from '../../src/domain/errors';

describe('the failure table', () => {
  it('marks refusals and bad input permanent, transient trouble retryable', () => {
    for (const type of [
      failureTypes.flashFull,
      failureTypes.commandRejected,
      failureTypes.invalidInput,
      failureTypes.authenticationFailed,
      failureTypes.rebootTimeout,
    ])
      expect(isPermanentFailureType(type)).toBe(true);
    for (const type of [
      failureTypes.downloadFailed,
      failureTypes.controllerUnreachable,
      failureTypes.imageServerUnreachable,
      failureTypes.integrityCheckFailed,
    ])
      expect(isPermanentFailureType(type)).toBe(false);
  });

  it('treats a type outside the table (or none) as retryable and without wording', () => {
    expect(isPermanentFailureType('SomethingNew')).toBe(false);
    expect(isPermanentFailureType(undefined)).toBe(false);
    expect(failureWording('SomethingNew')).toBeUndefined();
    expect(operatorHint(undefined)).toBe('');
  });

  it('lists exactly the permanent types for the activity retry policies', () => {
    expect([...permanentFailureTypes].sort()).toEqual(
      Object.values(failureTypes)
        .filter((type) => isPermanentFailureType(type))
        .sort(),
    );
    expect(permanentFailureTypes).toContain('CommandRejected');
    expect(permanentFailureTypes).not.toContain('DownloadFailed');
  });

  it('words every type for the operator', () => {
    expect(operatorHint(failureTypes.flashFull)).toBe(' — Not enough space on flash');
    for (const type of Object.values(failureTypes)) expect(failureWording(type)).toMatch(/^[A-Z]/);
  });
});

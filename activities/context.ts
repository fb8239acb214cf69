import { Context } from '@temporalio/activity';

/** The activity's context, when running as an activity (tests and the CLI may call it directly). */
export function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

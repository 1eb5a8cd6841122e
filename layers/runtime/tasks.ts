import type { Platform } from './platform';

/** A workflow task's event: the action its ASL state names and the execution's input. */
export interface TaskEventBase {
  action: string;
  input: { correlationId: string };
}

/** The events of a union whose action may be `A` (an event may serve several actions). */
type EventFor<E extends TaskEventBase, A extends string> = E extends unknown
  ? A extends E['action']
    ? E
    : never
  : never;

/** A context's workflow tasks, one handler per action, each given its own event's shape. */
export type TaskHandlers<E extends TaskEventBase> = {
  [A in E['action']]: (platform: Platform, event: EventFor<E, A>) => Promise<unknown>;
};

/** Any context's task handlers, as the tasks Lambda holds them. */
export type AnyTaskHandlers = Record<string, (platform: Platform, event: never) => Promise<unknown>>;

/** The task handlers of several contexts in one map; an action two contexts both name is a wiring error. */
export function mergeTasks(...maps: AnyTaskHandlers[]): AnyTaskHandlers {
  const merged: AnyTaskHandlers = {};
  for (const map of maps) {
    for (const [action, handler] of Object.entries(map)) {
      if (merged[action]) throw new Error(`Two contexts handle the workflow task ${action}`);
      merged[action] = handler;
    }
  }
  return merged;
}

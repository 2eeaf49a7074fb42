// The event bus (CometBFT's pubsub with its query language) and what the node publishes on it.
export { EventBus, EventBusError, Subscription, DEFAULT_EVENT_BUS_OPTIONS, type BusMessage, type EventBusErrorCode, type EventBusOptions, type SubscriberHandlers } from './bus.js';
export { NodeEvents, type RoundView, type RoundVotes } from './node-events.js';
export { EVENT_TYPES, DATA_TYPE, ROUND_STEP_NUMBER, type EventType } from './types.js';

// Package delivery sends Subscription notifications. The Gateway writes one
// outbox entry per matching change in the change's own transaction; a
// Worker drains the outbox after the commit: it claims due entries with a
// lease (so that gateways sharing a PostgreSQL database never send one
// entry at once), sends each as an R4 rest-hook notification with
// go-retryablehttp, and records every attempt in the outbox. Retries are
// scheduled in the outbox, not in a sleeping goroutine, so a restarted
// gateway carries on where the last one stopped; after the last attempt an
// entry is dead, and its Subscription is put in error.
//
// # Notifications
//
// A Subscription without a payload gets a POST to its endpoint with no
// body; one with payload application/fhir+json gets a PUT to
// [endpoint]/[type]/[id] with the resource version that matched. Both
// carry the Subscription's channel.header lines, X-CareBridge-Notification-Id
// (the outbox entry's id: the same on every attempt, for receivers to
// deduplicate) and X-CareBridge-Subscription-Id. Any 2xx answer delivers
// the notification. Delivery is at least once and in no particular order.
//
// # Attempts
//
// One attempt is one request, given Config.AttemptTimeout to be answered.
// Within it, go-retryablehttp tries again up to Config.QuickRetries times
// when the connection itself fails (refused, reset), a few hundred
// milliseconds apart: a receiver that restarts is not charged an attempt.
// Any HTTP answer, and a timeout, ends the attempt. A failed attempt is
// tried again after an exponential backoff with full jitter (a random wait
// up to Config.BackoffBase doubled per attempt, at most Config.BackoffCap),
// or after the Retry-After of a 429 or 503 answer when that is longer (up
// to a day). After Config.MaxAttempts attempts the entry is dead: one log
// line at level error, and the Subscription's status becomes error, with
// the reason. A later delivery of that Subscription's notifications puts
// it back to active; dead entries are delivered again only when redriven.
//
// The package decides when to send and when to give up; the Gateway keeps
// the outbox and the Subscriptions (adapter.Gateway.ClaimNotifications and
// RecordAttempts).
package delivery

package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/carebridge/carebridge/adapter"
)

// The headers every notification carries.
const (
	// HeaderNotificationID is the outbox entry's id: the same on every
	// attempt at one notification, for receivers to deduplicate.
	HeaderNotificationID = "X-CareBridge-Notification-Id"
	// HeaderSubscriptionID is the id of the Subscription notified.
	HeaderSubscriptionID = "X-CareBridge-Subscription-Id"
)

// Outcomes of an attempt, as the attempts metric labels them.
const (
	outcomeDelivered   = "delivered"
	outcomeRefused     = "http_error"  // an answer other than 2xx
	outcomeTimeout     = "timeout"     // no answer within the attempt timeout
	outcomeUnreachable = "unreachable" // the connection failed
)

// sender sends notifications with go-retryablehttp.
type sender struct {
	client  *retryablehttp.Client
	timeout time.Duration // of one attempt
}

// Waits between the quick retries of a failed connection.
const (
	quickRetryMin = 100 * time.Millisecond
	quickRetryMax = time.Second
)

func newSender(cfg Config) *sender {
	c := retryablehttp.NewClient()
	c.Logger = nil // attempts are logged by the worker, without URLs
	c.RetryMax = cfg.QuickRetries
	c.RetryWaitMin, c.RetryWaitMax = quickRetryMin, quickRetryMax
	c.CheckRetry = retryConnectionFailures
	c.ErrorHandler = retryablehttp.PassthroughErrorHandler
	return &sender{client: c, timeout: cfg.AttemptTimeout}
}

// retryConnectionFailures is the quick retry policy: a connection that
// fails (refused, reset) is tried again within the attempt; an answer, any
// answer, ends the attempt, so that its status and Retry-After are
// scheduled in the outbox; so does a timeout, which has used the attempt up.
func retryConnectionFailures(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil || err == nil {
		return false, nil
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return false, nil
	}
	return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
}

// result is how one attempt went.
type result struct {
	outcome    string
	problem    string        // why it failed, for the outbox and the Subscription: no personal data
	retryAfter time.Duration // the receiver's Retry-After, on 429 and 503
}

// maxAnswerBytes is how much of an answer is read (and thrown away), so
// that the connection can be reused.
const maxAnswerBytes = 64 << 10

// send makes one attempt at n, as an R4 rest-hook notification.
func (s *sender) send(ctx context.Context, n *adapter.Notification) result {
	sub, e := n.Subscription, &n.Entry
	method, target := http.MethodPost, sub.Endpoint
	var body []byte
	if sub.Payload != "" {
		u, err := url.Parse(sub.Endpoint)
		if err != nil {
			return result{outcome: outcomeUnreachable, problem: "the endpoint is not a URL"}
		}
		method, target, body = http.MethodPut, u.JoinPath(e.Type, e.ResourceID).String(), n.Body
	}
	var rawBody any
	if body != nil {
		rawBody = bytes.NewReader(body)
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, method, target, rawBody)
	if err != nil {
		return result{outcome: outcomeUnreachable, problem: "the notification request cannot be made: " + err.Error()}
	}
	for _, h := range sub.Headers {
		req.Header.Add(h.Name, h.Value)
	}
	if body != nil {
		req.Header.Set("Content-Type", sub.Payload)
	}
	req.Header.Set("User-Agent", "CareBridge")
	req.Header.Set(HeaderNotificationID, e.ID)
	req.Header.Set(HeaderSubscriptionID, e.Subscription)
	resp, err := s.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return result{outcome: outcomeTimeout, problem: fmt.Sprintf("no answer within %s", s.timeout)}
		}
		return result{outcome: outcomeUnreachable, problem: connectionProblem(err)}
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswerBytes))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return result{outcome: outcomeDelivered}
	}
	r := result{outcome: outcomeRefused, problem: "HTTP " + resp.Status}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		r.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return r
}

// connectionProblem says why a connection failed, without the URL (which
// may carry a token): "dial tcp 127.0.0.1:8443: connect: connection refused".
func connectionProblem(err error) string {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err
	}
	return "the connection failed: " + err.Error()
}

// parseRetryAfter reads a Retry-After header: seconds, or an HTTP date; 0
// when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(min(secs, int64(maxRetryAfter/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

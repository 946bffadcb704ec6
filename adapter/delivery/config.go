package delivery

import (
	"errors"
	"fmt"
	"time"
)

// Config tunes delivery. A zero field takes its default (DefaultConfig),
// except QuickRetries, where zero means none.
type Config struct {
	// MaxAttempts is how many attempts a notification gets before it is
	// dead.
	MaxAttempts int `yaml:"maxAttempts"`
	// BackoffBase and BackoffCap bound the wait before the next attempt:
	// a random wait up to BackoffBase doubled per attempt made, never more
	// than BackoffCap.
	BackoffBase time.Duration `yaml:"backoffBase"`
	BackoffCap  time.Duration `yaml:"backoffCap"`
	// AttemptTimeout is how long one attempt may take, quick retries of
	// failed connections included.
	AttemptTimeout time.Duration `yaml:"attemptTimeout"`
	// QuickRetries is how often an attempt tries again, within its
	// timeout, when the connection fails; 0 turns them off.
	QuickRetries int `yaml:"quickRetries"`
	// Workers is how many notifications are sent at once.
	Workers int `yaml:"workers"`
	// Batch is the most notifications one claim takes.
	Batch int `yaml:"batch"`
	// PollInterval is how often the outbox is looked at besides when this
	// gateway queues notifications: for retries that fall due, and for
	// notifications other gateways (or the outbox command) queue.
	PollInterval time.Duration `yaml:"pollInterval"`
	// Lease is how long a claim keeps other gateways off a notification;
	// when a gateway dies mid-attempt, another takes over after it.
	Lease time.Duration `yaml:"lease"`
	// Retention is how long delivered notifications stay in the outbox.
	Retention time.Duration `yaml:"retention"`
	// Holder names this gateway in the leases it takes; a random name
	// when empty. Every gateway on one database needs its own.
	Holder string `yaml:"-"`
}

// DefaultConfig returns the defaults: 12 attempts, spread over about an
// hour on average (at most two and a quarter), a request timeout of 10
// seconds, four at once.
func DefaultConfig() Config {
	return Config{
		MaxAttempts:    12,
		BackoffBase:    10 * time.Second,
		BackoffCap:     30 * time.Minute,
		AttemptTimeout: 10 * time.Second,
		QuickRetries:   2,
		Workers:        4,
		Batch:          16,
		PollInterval:   time.Second,
		Lease:          time.Minute,
		Retention:      7 * 24 * time.Hour,
	}
}

// withDefaults fills the zero fields of c from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	setDefault(&c.MaxAttempts, d.MaxAttempts)
	setDefault(&c.BackoffBase, d.BackoffBase)
	setDefault(&c.BackoffCap, d.BackoffCap)
	setDefault(&c.AttemptTimeout, d.AttemptTimeout)
	setDefault(&c.Workers, d.Workers)
	setDefault(&c.Batch, d.Batch)
	setDefault(&c.PollInterval, d.PollInterval)
	setDefault(&c.Lease, d.Lease)
	setDefault(&c.Retention, d.Retention)
	return c
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v == 0 {
		*v = def
	}
}

// Check refuses settings that cannot work.
func (c Config) Check() error {
	c = c.withDefaults()
	var errs []error
	positive := func(name string, ok bool) {
		if !ok {
			errs = append(errs, fmt.Errorf("delivery %s must be positive", name))
		}
	}
	positive("maxAttempts", c.MaxAttempts > 0)
	positive("backoffBase", c.BackoffBase > 0)
	positive("attemptTimeout", c.AttemptTimeout > 0)
	positive("workers", c.Workers > 0)
	positive("batch", c.Batch > 0)
	positive("pollInterval", c.PollInterval > 0)
	positive("retention", c.Retention > 0)
	if c.QuickRetries < 0 {
		errs = append(errs, errors.New("delivery quickRetries must not be negative"))
	}
	if c.BackoffCap < c.BackoffBase {
		errs = append(errs, fmt.Errorf("delivery backoffCap %s is shorter than backoffBase %s", c.BackoffCap, c.BackoffBase))
	}
	if c.Lease < 2*c.AttemptTimeout {
		errs = append(errs, fmt.Errorf("delivery lease %s must be at least twice attemptTimeout %s, so that an attempt ends well within its lease", c.Lease, c.AttemptTimeout))
	}
	return errors.Join(errs...)
}

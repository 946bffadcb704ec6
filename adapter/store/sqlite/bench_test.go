package sqlite_test

import (
	"testing"

	"github.com/carebridge/carebridge/adapter/store/sqlite"
	"github.com/carebridge/carebridge/adapter/store/storetest"
)

func BenchmarkPutBundle(b *testing.B) {
	b.Run("synchronous=FULL", func(b *testing.B) {
		storetest.BenchmarkPutBundle(b, openTest(b, sqlite.Config{}))
	})
	b.Run("synchronous=NORMAL", func(b *testing.B) {
		storetest.BenchmarkPutBundle(b, openTest(b, sqlite.Config{Synchronous: "NORMAL"}))
	})
}

func BenchmarkSearchTasks(b *testing.B) {
	storetest.BenchmarkSearchTasks(b, openTest(b, sqlite.Config{}), 20000, nil)
}

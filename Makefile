# Makefile for the migrate extension (PGXS)
EXTENSION   = migrate
EXTVERSION  = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big  = migrate
OBJS        = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
PG_CPPFLAGS = -I$(srcdir)/src

DATA        = $(wildcard sql/$(EXTENSION)--*.sql)
SCRIPTS     = bin/pg_migrate

REGRESS     = install session targets errors run
ISOLATION   = concurrent_upgrade lock_waits applied_answers
EXTRA_CLEAN = output_iso test/tmp

PG_CONFIG  ?= pg_config
PGXS       := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS does not track header dependencies; every object includes both.
$(OBJS): src/migrate.h src/compat.h

ifeq ($(shell test $(VERSION_NUM) -lt 130000 && echo old),old)
$(error migrate requires PostgreSQL 13 or later; this is $(VERSION))
endif

# PGXS would remove $(bindir)/bin/pg_migrate on uninstall; remove the
# installed file itself.
.PHONY: uninstall-pg_migrate
uninstall: uninstall-pg_migrate
uninstall-pg_migrate:
	rm -f '$(DESTDIR)$(bindir)/pg_migrate'

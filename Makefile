# Makefile for the migrate extension (PGXS)
EXTENSION   = migrate
EXTVERSION  = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big  = migrate
OBJS        = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
PG_CPPFLAGS = -I$(srcdir)/src

DATA        = $(wildcard sql/$(EXTENSION)--*.sql)
SCRIPTS     = bin/pg_migrate bin/pg_migrate_sqlalchemy.py bin/pg_migrate_alembic.py

REGRESS     = install session errors run
ISOLATION   = concurrent_upgrade lock_waits applied_answers
EXTRA_CLEAN = output_iso test/tmp

PG_CONFIG  ?= pg_config
PGXS       := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS does not track header dependencies; every object includes both,
# the catalog files catalog.h, and diff.c and diffgen.c schemamodel.h.
$(OBJS): src/migrate.h src/compat.h
$(filter src/catalog%,$(OBJS)): src/catalog.h
$(filter src/tenant%,$(OBJS)): src/tenant.h
src/diff.o src/diffgen.o: src/schemamodel.h

ifeq ($(shell test $(VERSION_NUM) -lt 130000 && echo old),old)
$(error migrate requires PostgreSQL 13 or later; this is $(VERSION))
endif

# Debian's bindir (/usr/lib/postgresql/15/bin) is not on PATH: installed
# as root, pg_migrate is also linked from LINKDIR, so that it runs as typed.
LINKDIR ?= /usr/local/bin
.PHONY: install-pg_migrate-link
install: install-pg_migrate-link
install-pg_migrate-link: installdirs
	@if [ "$$(id -u)" = 0 ] && [ -z '$(DESTDIR)' ] && [ -d '$(LINKDIR)' ]; then \
		echo "ln -sf '$(bindir)/pg_migrate' '$(LINKDIR)/pg_migrate'"; \
		ln -sf '$(bindir)/pg_migrate' '$(LINKDIR)/pg_migrate'; \
	fi

# PGXS would remove $(bindir)/bin/pg_migrate on uninstall; remove the
# installed files themselves, and the link to pg_migrate if it is ours.
.PHONY: uninstall-pg_migrate
uninstall: uninstall-pg_migrate
uninstall-pg_migrate:
	rm -f $(addprefix '$(DESTDIR)$(bindir)'/,$(notdir $(SCRIPTS)))
	@if [ -z '$(DESTDIR)' ] && [ "$$(readlink '$(LINKDIR)/pg_migrate' 2>/dev/null)" = '$(bindir)/pg_migrate' ]; then \
		echo "rm -f '$(LINKDIR)/pg_migrate'"; rm -f '$(LINKDIR)/pg_migrate'; \
	fi

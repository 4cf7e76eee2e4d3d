// SPDX-License-Identifier: LGPL-2.1-or-later
// spdlog (Debian's libspdlog-dev): systemd_sink and syslog_sink. Neither
// carries custom fields in 1.10, so the five fields ride in the text; the
// systemd sink sends CODE_FILE/LINE/FUNC from the SPDLOG_LOGGER_* macros.
#include <memory>
#include <syslog.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/sinks/systemd_sink.h>

#include "bench.h"

namespace {

std::shared_ptr<spdlog::logger> logger;

int systemd_setup(struct bench_ctx *ctx) {
        auto sink = std::make_shared<spdlog::sinks::systemd_sink_st>(ctx->ident);
        logger = std::make_shared<spdlog::logger>("bench", sink);
        logger->set_level(spdlog::level::info);
        return 0;
}

int syslog_setup(struct bench_ctx *ctx) {
        if (access("/dev/log", W_OK) < 0)
                return -1;
        auto sink = std::make_shared<spdlog::sinks::syslog_sink_st>(ctx->ident, LOG_NDELAY | LOG_PID,
                                                                    LOG_DAEMON, false);
        logger = std::make_shared<spdlog::logger>("bench", sink);
        logger->set_level(spdlog::level::info);
        return 0;
}

void teardown(struct bench_ctx *) {
        logger.reset();
}

void enabled_run(struct bench_ctx *, uint64_t n) {
        spdlog::logger *lg = logger.get();
        for (uint64_t i = 0; i < n; i++)
                SPDLOG_LOGGER_CALL(lg, spdlog::level::info,
                                   "order {} placed for customer {} " BENCH_FIELDS_TEXT,
                                   BENCH_ORDER_ID, BENCH_USER_ID);
}

void disabled_run(struct bench_ctx *, uint64_t n) {
        spdlog::logger *lg = logger.get();
        for (uint64_t i = 0; i < n; i++) {
                SPDLOG_LOGGER_CALL(lg, spdlog::level::debug, "order {} placed for customer {}", i,
                                   BENCH_USER_ID);
                bench_keep(i);
        }
}

bench_row make(const char *name, bench_kind kind, bool to_journal, const char *note,
               int (*setup)(bench_ctx *), void (*run)(bench_ctx *, uint64_t), uint64_t scale) {
        bench_row r{};
        r.name = name;
        r.peer = "spdlog";
        r.kind = kind;
        r.to_journal = to_journal;
        r.note = note;
        r.setup = setup;
        r.run = run;
        r.teardown = teardown;
        r.scale = scale;
        return r;
}

} // namespace

extern "C" const bench_row bench_rows_spdlog[] = {
        make("spdlog systemd_sink", BENCH_THROUGHPUT, true, "fields in the text; _st sink (no mutex)", systemd_setup,
             enabled_run, 0),
        make("spdlog syslog_sink", BENCH_THROUGHPUT, true, "fields in the text; _st sink; /dev/log -> journald",
             syslog_setup, enabled_run, 0),
        make("spdlog disabled call (debug at info)", BENCH_NS_PER_CALL, false, nullptr,
             systemd_setup, disabled_run, 1000),
        bench_row{},
};

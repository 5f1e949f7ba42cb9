/* Unit tests of shared/src/endpoint.c: ipc and tcp address layouts of every
 * daemon-to-daemon channel. */
#include "tripdesk/endpoint.h"

#include "tripdesk/common.h"
#include "tripdesk/config.h"

#include "run_suite.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const host_vars[] = {"TRIPDESK_HOST_GATEWAY",  "TRIPDESK_HOST_REGISTRY",
                                        "TRIPDESK_HOST_AUTH",     "TRIPDESK_HOST_BOOKING",
                                        "TRIPDESK_HOST_PAYMENT",  "TRIPDESK_HOST_NOTIFICATION",
                                        "TRIPDESK_HOST_ANALYTICS"};

/* Every test starts from an environment without endpoint configuration (tests share
 * one process when CK_FORK=no). */
static void clear_env(void)
{
    unsetenv(TD_ENV_IPC_DIR);
    unsetenv(TD_ENV_NNG_TRANSPORT);
    unsetenv(TD_ENV_NNG_PORT_BASE);
    for (size_t i = 0; i < sizeof host_vars / sizeof host_vars[0]; i++)
        unsetenv(host_vars[i]);
}

static char url[TD_URL_MAX];

static const char *ep(td_endpoint_kind kind, const char *service, int listen)
{
    memset(url, 0, sizeof url);
    ck_assert_int_eq(td_endpoint_url(kind, service, listen, url, sizeof url), TD_OK);
    return url;
}

static void use_tcp(void)
{
    setenv(TD_ENV_NNG_TRANSPORT, "tcp", 1);
}

/* ---- service names ---- */

START_TEST(service_index_follows_fixed_order)
{
    ck_assert_int_eq(td_service_index("auth"), 0);
    ck_assert_int_eq(td_service_index("booking"), 1);
    ck_assert_int_eq(td_service_index("payment"), 2);
    ck_assert_int_eq(td_service_index("notification"), 3);
    ck_assert_int_eq(td_service_index("analytics"), 4);
    for (int i = 0; i < TD_SERVICE_COUNT; i++)
        ck_assert_int_eq(td_service_index(td_service_names[i]), i);
}
END_TEST

START_TEST(service_index_of_unknown_name_is_minus_one)
{
    ck_assert_int_eq(td_service_index("gateway"), -1);
    ck_assert_int_eq(td_service_index("registry"), -1);
    ck_assert_int_eq(td_service_index("Booking"), -1);
    ck_assert_int_eq(td_service_index("book"), -1);
    ck_assert_int_eq(td_service_index(""), -1);
    ck_assert_int_eq(td_service_index(NULL), -1);
}
END_TEST

/* ---- ipc ---- */

START_TEST(ipc_is_default_under_var_run)
{
    ck_assert_str_eq(ep(TD_EP_GATEWAY, "booking", 1), "ipc://var/run/gw-booking.ipc");
    ck_assert_str_eq(ep(TD_EP_REGISTRY, NULL, 0), "ipc://var/run/registry.ipc");
    ck_assert_str_eq(ep(TD_EP_BUS, "payment", 1), "ipc://var/run/bus-payment.ipc");
    ck_assert_str_eq(ep(TD_EP_REPLAY, "auth", 0), "ipc://var/run/replay-auth.ipc");
}
END_TEST

START_TEST(ipc_uses_ipc_dir)
{
    setenv(TD_ENV_IPC_DIR, "/tmp/td-unit", 1);
    ck_assert_str_eq(ep(TD_EP_GATEWAY, "analytics", 0), "ipc:///tmp/td-unit/gw-analytics.ipc");
    ck_assert_str_eq(ep(TD_EP_REGISTRY, NULL, 1), "ipc:///tmp/td-unit/registry.ipc");
    ck_assert_str_eq(ep(TD_EP_BUS, "notification", 0), "ipc:///tmp/td-unit/bus-notification.ipc");
    ck_assert_str_eq(ep(TD_EP_REPLAY, "booking", 1), "ipc:///tmp/td-unit/replay-booking.ipc");
}
END_TEST

START_TEST(ipc_empty_dir_falls_back_to_default)
{
    setenv(TD_ENV_IPC_DIR, "", 1);
    ck_assert_str_eq(ep(TD_EP_REGISTRY, NULL, 0), "ipc://var/run/registry.ipc");
}
END_TEST

START_TEST(ipc_listen_and_dial_are_the_same_address)
{
    setenv(TD_ENV_IPC_DIR, "/run/td", 1);
    char listen[TD_URL_MAX], dial[TD_URL_MAX];
    static const td_endpoint_kind kinds[] = {TD_EP_GATEWAY, TD_EP_BUS, TD_EP_REPLAY};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        for (int i = 0; i < TD_SERVICE_COUNT; i++) {
            ck_assert_int_eq(
                td_endpoint_url(kinds[k], td_service_names[i], 1, listen, sizeof listen), TD_OK);
            ck_assert_int_eq(td_endpoint_url(kinds[k], td_service_names[i], 0, dial, sizeof dial),
                             TD_OK);
            ck_assert_str_eq(listen, dial);
        }
}
END_TEST

START_TEST(ipc_ignores_host_variables)
{
    setenv("TRIPDESK_HOST_BOOKING", "10.0.0.9", 1);
    ck_assert_str_eq(ep(TD_EP_BUS, "booking", 0), "ipc://var/run/bus-booking.ipc");
}
END_TEST

START_TEST(unknown_transport_falls_back_to_ipc)
{
    setenv(TD_ENV_NNG_TRANSPORT, "ws", 1);
    ck_assert_str_eq(ep(TD_EP_BUS, "auth", 1), "ipc://var/run/bus-auth.ipc");
}
END_TEST

/* ---- tcp ---- */

START_TEST(tcp_registry_is_port_base)
{
    use_tcp();
    ck_assert_str_eq(ep(TD_EP_REGISTRY, NULL, 1), "tcp://0.0.0.0:7100");
    ck_assert_str_eq(ep(TD_EP_REGISTRY, NULL, 0), "tcp://127.0.0.1:7100");
}
END_TEST

START_TEST(tcp_layout_gives_each_channel_its_own_port)
{
    use_tcp();
    for (int i = 0; i < TD_SERVICE_COUNT; i++) {
        const char *svc = td_service_names[i];
        char want[64];
        snprintf(want, sizeof want, "tcp://0.0.0.0:%d", 7101 + i);
        ck_assert_str_eq(ep(TD_EP_GATEWAY, svc, 1), want);
        snprintf(want, sizeof want, "tcp://0.0.0.0:%d", 7106 + i);
        ck_assert_str_eq(ep(TD_EP_BUS, svc, 1), want);
        snprintf(want, sizeof want, "tcp://0.0.0.0:%d", 7111 + i);
        ck_assert_str_eq(ep(TD_EP_REPLAY, svc, 1), want);
    }
}
END_TEST

START_TEST(tcp_ports_are_distinct)
{
    use_tcp();
    char seen[1 + 3 * TD_SERVICE_COUNT][TD_URL_MAX];
    int n = 0;
    snprintf(seen[n++], TD_URL_MAX, "%s", ep(TD_EP_REGISTRY, NULL, 1));
    static const td_endpoint_kind kinds[] = {TD_EP_GATEWAY, TD_EP_BUS, TD_EP_REPLAY};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        for (int i = 0; i < TD_SERVICE_COUNT; i++)
            snprintf(seen[n++], TD_URL_MAX, "%s", ep(kinds[k], td_service_names[i], 1));
    for (int a = 0; a < n; a++)
        for (int b = a + 1; b < n; b++)
            ck_assert_str_ne(seen[a], seen[b]);
}
END_TEST

START_TEST(tcp_port_base_moves_every_port)
{
    use_tcp();
    setenv(TD_ENV_NNG_PORT_BASE, "9000", 1);
    ck_assert_str_eq(ep(TD_EP_REGISTRY, NULL, 1), "tcp://0.0.0.0:9000");
    ck_assert_str_eq(ep(TD_EP_GATEWAY, "auth", 1), "tcp://0.0.0.0:9001");
    ck_assert_str_eq(ep(TD_EP_BUS, "booking", 0), "tcp://127.0.0.1:9007");
    ck_assert_str_eq(ep(TD_EP_REPLAY, "analytics", 0), "tcp://127.0.0.1:9015");
}
END_TEST

START_TEST(tcp_invalid_port_base_falls_back_to_default)
{
    use_tcp();
    static const char *const bad[] = {"80", "65001", "70000", "abc", "7200x", "-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv(TD_ENV_NNG_PORT_BASE, bad[i], 1);
        ck_assert_str_eq(ep(TD_EP_REGISTRY, NULL, 1), "tcp://0.0.0.0:7100");
    }
}
END_TEST

START_TEST(tcp_dial_uses_owner_host_variable)
{
    use_tcp();
    setenv("TRIPDESK_HOST_GATEWAY", "gw.internal", 1);
    setenv("TRIPDESK_HOST_REGISTRY", "10.0.0.2", 1);
    setenv("TRIPDESK_HOST_BOOKING", "booking.internal", 1);
    /* The gateway owns the request channels: services dial the gateway's host. */
    ck_assert_str_eq(ep(TD_EP_GATEWAY, "booking", 0), "tcp://gw.internal:7102");
    ck_assert_str_eq(ep(TD_EP_REGISTRY, NULL, 0), "tcp://10.0.0.2:7100");
    /* A publisher owns its bus and replay channels. */
    ck_assert_str_eq(ep(TD_EP_BUS, "booking", 0), "tcp://booking.internal:7107");
    ck_assert_str_eq(ep(TD_EP_REPLAY, "booking", 0), "tcp://booking.internal:7112");
    /* Owners without a host variable stay on loopback. */
    ck_assert_str_eq(ep(TD_EP_BUS, "payment", 0), "tcp://127.0.0.1:7108");
}
END_TEST

START_TEST(tcp_listen_is_all_interfaces_whatever_the_host)
{
    use_tcp();
    setenv("TRIPDESK_HOST_GATEWAY", "gw.internal", 1);
    setenv("TRIPDESK_HOST_REGISTRY", "10.0.0.2", 1);
    setenv("TRIPDESK_HOST_NOTIFICATION", "notify.internal", 1);
    ck_assert_str_eq(ep(TD_EP_GATEWAY, "notification", 1), "tcp://0.0.0.0:7104");
    ck_assert_str_eq(ep(TD_EP_REGISTRY, NULL, 1), "tcp://0.0.0.0:7100");
    ck_assert_str_eq(ep(TD_EP_BUS, "notification", 1), "tcp://0.0.0.0:7109");
}
END_TEST

START_TEST(tcp_empty_host_variable_means_loopback)
{
    use_tcp();
    setenv("TRIPDESK_HOST_AUTH", "", 1);
    ck_assert_str_eq(ep(TD_EP_BUS, "auth", 0), "tcp://127.0.0.1:7106");
}
END_TEST

/* ---- errors ---- */

START_TEST(unknown_service_is_einval)
{
    char buf[TD_URL_MAX];
    static const td_endpoint_kind kinds[] = {TD_EP_GATEWAY, TD_EP_BUS, TD_EP_REPLAY};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        ck_assert_int_eq(td_endpoint_url(kinds[k], "billing", 1, buf, sizeof buf), TD_EINVAL);
        ck_assert_int_eq(td_endpoint_url(kinds[k], NULL, 0, buf, sizeof buf), TD_EINVAL);
        ck_assert_int_eq(td_endpoint_url(kinds[k], "gateway", 0, buf, sizeof buf), TD_EINVAL);
    }
    use_tcp();
    ck_assert_int_eq(td_endpoint_url(TD_EP_BUS, "billing", 1, buf, sizeof buf), TD_EINVAL);
}
END_TEST

START_TEST(registry_ignores_service_argument)
{
    ck_assert_str_eq(ep(TD_EP_REGISTRY, "no-such-service", 0), "ipc://var/run/registry.ipc");
    use_tcp();
    ck_assert_str_eq(ep(TD_EP_REGISTRY, "booking", 0), "tcp://127.0.0.1:7100");
}
END_TEST

START_TEST(too_small_buffer_is_einval)
{
    char buf[16];
    ck_assert_int_eq(td_endpoint_url(TD_EP_GATEWAY, "booking", 1, buf, sizeof buf), TD_EINVAL);
    /* Exactly enough room for the text and its NUL succeeds. */
    const char *want = "ipc://var/run/registry.ipc";
    char exact[64];
    ck_assert_int_eq(td_endpoint_url(TD_EP_REGISTRY, NULL, 0, exact, strlen(want) + 1), TD_OK);
    ck_assert_str_eq(exact, want);
    ck_assert_int_eq(td_endpoint_url(TD_EP_REGISTRY, NULL, 0, exact, strlen(want)), TD_EINVAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("endpoint");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, clear_env, clear_env);
    tcase_add_test(tc, service_index_follows_fixed_order);
    tcase_add_test(tc, service_index_of_unknown_name_is_minus_one);
    tcase_add_test(tc, ipc_is_default_under_var_run);
    tcase_add_test(tc, ipc_uses_ipc_dir);
    tcase_add_test(tc, ipc_empty_dir_falls_back_to_default);
    tcase_add_test(tc, ipc_listen_and_dial_are_the_same_address);
    tcase_add_test(tc, ipc_ignores_host_variables);
    tcase_add_test(tc, unknown_transport_falls_back_to_ipc);
    tcase_add_test(tc, tcp_registry_is_port_base);
    tcase_add_test(tc, tcp_layout_gives_each_channel_its_own_port);
    tcase_add_test(tc, tcp_ports_are_distinct);
    tcase_add_test(tc, tcp_port_base_moves_every_port);
    tcase_add_test(tc, tcp_invalid_port_base_falls_back_to_default);
    tcase_add_test(tc, tcp_dial_uses_owner_host_variable);
    tcase_add_test(tc, tcp_listen_is_all_interfaces_whatever_the_host);
    tcase_add_test(tc, tcp_empty_host_variable_means_loopback);
    tcase_add_test(tc, unknown_service_is_einval);
    tcase_add_test(tc, registry_ignores_service_argument);
    tcase_add_test(tc, too_small_buffer_is_einval);
    suite_add_tcase(s, tc);
    return run_suite(s);
}

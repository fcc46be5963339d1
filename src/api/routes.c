/*
 * routes.c - the registration list: every module's routes, in order.  A
 * module with HTTP routes adds its api_routes_<module> function here (and
 * its declaration in api.h).
 */
#include "api/api_int.h"

static void (*const route_modules[])(api_router *r) = {
    api_routes_system,
    api_routes_auth,
    api_routes_payments,
    api_routes_messenger,
    api_routes_chatpay,
    api_routes_listening,
    api_routes_bots,
    api_routes_botapi,
};

void api_routes_register_all(api_router *r) {
    for (size_t i = 0; i < SB_ARRAY_LEN(route_modules); i++)
        route_modules[i](r);
}

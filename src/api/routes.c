/*
 * routes.c - the registration lists: every module's routes, in order, and
 * every WebSocket frame type.  A module with HTTP routes adds its
 * api_routes_<module> function here (and its declaration in api.h); a
 * module with frames adds its lines to api_ws_frame_types (handlers in its
 * own file), so the transport (ws.c) never names a module.
 */
#include "api/api_int.h"

static void (*const route_modules[])(api_router *r) = {
    api_routes_system,  api_routes_auth,      api_routes_payments, api_routes_messenger,
    api_routes_chatpay, api_routes_listening, api_routes_bots,     api_routes_media, api_routes_botapi,
};

void api_routes_register_all(api_router *r) {
    for (size_t i = 0; i < SB_ARRAY_LEN(route_modules); i++)
        route_modules[i](r);
}

const api_ws_frame_type api_ws_frame_types[] = {
    {"ping", api_ws_frame_ping},       {"echo", api_ws_frame_echo},     {"send", api_ws_frame_send},
    {"receipt", api_ws_frame_receipt}, {"typing", api_ws_frame_typing},
};
const size_t api_ws_frame_type_count = SB_ARRAY_LEN(api_ws_frame_types);

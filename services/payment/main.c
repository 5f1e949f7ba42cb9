/* tripdesk-payment: wiring only; the resources come in their own files. */
#include "tripdesk/service.h"

int main(void)
{
    td_service *svc;
    if (td_service_new(&svc, "payment") != TD_OK)
        return 1;
    int rc = td_service_add_builtin_routes(svc, "/api/payments");
    if (rc == TD_OK)
        rc = td_service_run(svc);
    td_service_free(svc);
    return rc == TD_OK ? 0 : 1;
}

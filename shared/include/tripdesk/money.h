/*
 * Money as integer minor units of an ISO 4217 currency (paise, cents, yen): amounts
 * are parsed once from their decimal text into int64 minor units, added and compared
 * exactly, and formatted back; never summed as doubles (three payments of 0.10 make
 * 0.30, not 0.30000000000000004).
 */
#ifndef TRIPDESK_MONEY_H
#define TRIPDESK_MONEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest amount accepted, in major units (as the booking service's MONEY_MAX). */
#define TD_MONEY_MAX_MAJOR 10000000000LL
#define TD_MONEY_TEXT_MAX 48 /* any int64 with sign, point and NUL fits */

/* Decimal places of the currency's minor unit: 0 (JPY, KRW, VND...), 3 (BHD, KWD,
 * OMR, JOD, TND, IQD, LYD) or 2 (every other code). */
int td_money_decimals(const char *currency);

/* Parses decimal text ("12", "12.5", "0.10"; no sign, no exponent, no spaces) with at
 * most `decimals` decimal places into minor units. TD_EINVAL otherwise or above
 * TD_MONEY_MAX_MAJOR. */
int td_money_parse(const char *text, int decimals, int64_t *minor);

/* The same for a JSON number as cJSON holds it (a double): accepted when it is
 * within 1e-9 of a multiple of the minor unit (so 0.1 is 10 cents, 0.105 is refused
 * for two decimals). */
int td_money_from_double(double v, int decimals, int64_t *minor);

/* Formats minor units as decimal text with exactly `decimals` places ("0.30",
 * "-5.00", "1200"); buf holds TD_MONEY_TEXT_MAX. */
void td_money_format(int64_t minor, int decimals, char buf[TD_MONEY_TEXT_MAX]);

/* Minor units as a double in major units, for JSON numbers (exact to the cent for
 * every amount below 2^53 minor units). */
double td_money_to_double(int64_t minor, int decimals);

#endif

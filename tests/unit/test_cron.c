/*
 * Unit tests of shared/src/cron.c: the parser (field sets, names, macros, the error
 * messages) and the next fire times in UTC and in daylight saving zones
 * (Europe/London, America/New_York, Australia/Sydney; America/Santiago and
 * Australia/Lord_Howe, whose clocks change at midnight and by 30 minutes) across both
 * transitions.
 *
 * The table of fire times was produced by tests/unit/gen_cron_table.py, an
 * independent model of cron.h's rules (its own parser and a walk over every real
 * minute with Python's zoneinfo); the expected times are written here as local ISO
 * 8601 times with their UTC offset, which this file converts to Unix seconds.
 */
#include "tripdesk/common.h"
#include "tripdesk/cron.h"

#include "run_suite.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIRES 4

/* A start time and the FIRES fire times that follow it, one after the other. */
typedef struct {
    const char *zone, *expr, *start;
    const char *fires[FIRES];
} next_case;

static const next_case next_cases[] = {
    {"UTC",
     "* * * * *",
     "2026-01-01T00:00:30+00:00",
     {"2026-01-01T00:01:00+00:00", "2026-01-01T00:02:00+00:00", "2026-01-01T00:03:00+00:00",
      "2026-01-01T00:04:00+00:00"}},
    {"UTC",
     "*/15 * * * *",
     "2026-01-01T00:07:00+00:00",
     {"2026-01-01T00:15:00+00:00", "2026-01-01T00:30:00+00:00", "2026-01-01T00:45:00+00:00",
      "2026-01-01T01:00:00+00:00"}},
    {"UTC",
     "0 */6 * * *",
     "2026-01-01T05:00:00+00:00",
     {"2026-01-01T06:00:00+00:00", "2026-01-01T12:00:00+00:00", "2026-01-01T18:00:00+00:00",
      "2026-01-02T00:00:00+00:00"}},
    {"UTC",
     "5,10,50 8-9 * * *",
     "2026-01-01T08:30:00+00:00",
     {"2026-01-01T08:50:00+00:00", "2026-01-01T09:05:00+00:00", "2026-01-01T09:10:00+00:00",
      "2026-01-01T09:50:00+00:00"}},
    {"UTC",
     "10-30/10 14 * * *",
     "2026-01-01T14:10:00+00:00",
     {"2026-01-01T14:20:00+00:00", "2026-01-01T14:30:00+00:00", "2026-01-02T14:10:00+00:00",
      "2026-01-02T14:20:00+00:00"}},
    {"UTC",
     "30/10 * * * *",
     "2026-01-01T00:00:00+00:00",
     {"2026-01-01T00:30:00+00:00", "2026-01-01T00:40:00+00:00", "2026-01-01T00:50:00+00:00",
      "2026-01-01T01:30:00+00:00"}},
    {"UTC",
     "0 22/1 * * *",
     "2026-01-01T21:30:00+00:00",
     {"2026-01-01T22:00:00+00:00", "2026-01-01T23:00:00+00:00", "2026-01-02T22:00:00+00:00",
      "2026-01-02T23:00:00+00:00"}},
    {"UTC",
     "0,30 9-17/4 * * 1-5",
     "2026-01-02T12:00:00+00:00",
     {"2026-01-02T13:00:00+00:00", "2026-01-02T13:30:00+00:00", "2026-01-02T17:00:00+00:00",
      "2026-01-02T17:30:00+00:00"}},
    {"UTC",
     "*/20 9-10 * * 1-5",
     "2026-01-02T10:45:00+00:00",
     {"2026-01-05T09:00:00+00:00", "2026-01-05T09:20:00+00:00", "2026-01-05T09:40:00+00:00",
      "2026-01-05T10:00:00+00:00"}},
    {"UTC",
     "0 9 * * MON-FRI",
     "2026-01-09T10:00:00+00:00",
     {"2026-01-12T09:00:00+00:00", "2026-01-13T09:00:00+00:00", "2026-01-14T09:00:00+00:00",
      "2026-01-15T09:00:00+00:00"}},
    {"UTC",
     "0 9 * * sat,SUN",
     "2026-01-07T00:00:00+00:00",
     {"2026-01-10T09:00:00+00:00", "2026-01-11T09:00:00+00:00", "2026-01-17T09:00:00+00:00",
      "2026-01-18T09:00:00+00:00"}},
    {"UTC",
     "0 0 1 JAN,jul *",
     "2026-03-15T00:00:00+00:00",
     {"2026-07-01T00:00:00+00:00", "2027-01-01T00:00:00+00:00", "2027-07-01T00:00:00+00:00",
      "2028-01-01T00:00:00+00:00"}},
    {"UTC",
     "0 6 * FEB-apr/2 Mon",
     "2026-01-01T00:00:00+00:00",
     {"2026-02-02T06:00:00+00:00", "2026-02-09T06:00:00+00:00", "2026-02-16T06:00:00+00:00",
      "2026-02-23T06:00:00+00:00"}},
    {"UTC",
     "15 10 * * 7",
     "2026-01-01T00:00:00+00:00",
     {"2026-01-04T10:15:00+00:00", "2026-01-11T10:15:00+00:00", "2026-01-18T10:15:00+00:00",
      "2026-01-25T10:15:00+00:00"}},
    {"UTC",
     "0 0 * * 5-7",
     "2026-01-01T12:00:00+00:00",
     {"2026-01-02T00:00:00+00:00", "2026-01-03T00:00:00+00:00", "2026-01-04T00:00:00+00:00",
      "2026-01-09T00:00:00+00:00"}},
    {"UTC",
     "0 0 * * 1/2",
     "2026-01-01T00:00:00+00:00",
     {"2026-01-02T00:00:00+00:00", "2026-01-05T00:00:00+00:00", "2026-01-07T00:00:00+00:00",
      "2026-01-09T00:00:00+00:00"}},
    {"UTC",
     "0 8 * */5 *",
     "2026-01-31T09:00:00+00:00",
     {"2026-06-01T08:00:00+00:00", "2026-06-02T08:00:00+00:00", "2026-06-03T08:00:00+00:00",
      "2026-06-04T08:00:00+00:00"}},
    {"UTC",
     "@hourly",
     "2026-01-01T00:59:59+00:00",
     {"2026-01-01T01:00:00+00:00", "2026-01-01T02:00:00+00:00", "2026-01-01T03:00:00+00:00",
      "2026-01-01T04:00:00+00:00"}},
    {"UTC",
     "@daily",
     "2026-01-30T00:00:00+00:00",
     {"2026-01-31T00:00:00+00:00", "2026-02-01T00:00:00+00:00", "2026-02-02T00:00:00+00:00",
      "2026-02-03T00:00:00+00:00"}},
    {"UTC",
     "@midnight",
     "2026-02-27T12:00:00+00:00",
     {"2026-02-28T00:00:00+00:00", "2026-03-01T00:00:00+00:00", "2026-03-02T00:00:00+00:00",
      "2026-03-03T00:00:00+00:00"}},
    {"UTC",
     "@weekly",
     "2026-01-01T00:00:00+00:00",
     {"2026-01-04T00:00:00+00:00", "2026-01-11T00:00:00+00:00", "2026-01-18T00:00:00+00:00",
      "2026-01-25T00:00:00+00:00"}},
    {"UTC",
     "@monthly",
     "2026-01-15T00:00:00+00:00",
     {"2026-02-01T00:00:00+00:00", "2026-03-01T00:00:00+00:00", "2026-04-01T00:00:00+00:00",
      "2026-05-01T00:00:00+00:00"}},
    {"UTC",
     "@yearly",
     "2026-06-01T00:00:00+00:00",
     {"2027-01-01T00:00:00+00:00", "2028-01-01T00:00:00+00:00", "2029-01-01T00:00:00+00:00",
      "2030-01-01T00:00:00+00:00"}},
    {"UTC",
     "@annually",
     "2026-01-01T00:00:00+00:00",
     {"2027-01-01T00:00:00+00:00", "2028-01-01T00:00:00+00:00", "2029-01-01T00:00:00+00:00",
      "2030-01-01T00:00:00+00:00"}},
    {"UTC",
     "0 0 13 * 5",
     "2026-01-01T00:00:00+00:00",
     {"2026-01-02T00:00:00+00:00", "2026-01-09T00:00:00+00:00", "2026-01-13T00:00:00+00:00",
      "2026-01-16T00:00:00+00:00"}},
    {"UTC",
     "0 0 13 * *",
     "2026-01-01T00:00:00+00:00",
     {"2026-01-13T00:00:00+00:00", "2026-02-13T00:00:00+00:00", "2026-03-13T00:00:00+00:00",
      "2026-04-13T00:00:00+00:00"}},
    {"UTC",
     "0 0 * * 5",
     "2026-01-01T00:00:00+00:00",
     {"2026-01-02T00:00:00+00:00", "2026-01-09T00:00:00+00:00", "2026-01-16T00:00:00+00:00",
      "2026-01-23T00:00:00+00:00"}},
    {"UTC",
     "0 0 13 * ?",
     "2026-01-01T00:00:00+00:00",
     {"2026-01-13T00:00:00+00:00", "2026-02-13T00:00:00+00:00", "2026-03-13T00:00:00+00:00",
      "2026-04-13T00:00:00+00:00"}},
    {"UTC",
     "0 0 1,15 * MON",
     "2026-06-01T00:00:00+00:00",
     {"2026-06-08T00:00:00+00:00", "2026-06-15T00:00:00+00:00", "2026-06-22T00:00:00+00:00",
      "2026-06-29T00:00:00+00:00"}},
    {"UTC",
     "0 0 29 2 1",
     "2027-01-01T00:00:00+00:00",
     {"2027-02-01T00:00:00+00:00", "2027-02-08T00:00:00+00:00", "2027-02-15T00:00:00+00:00",
      "2027-02-22T00:00:00+00:00"}},
    {"UTC",
     "0 12 29 2 *",
     "2026-03-01T00:00:00+00:00",
     {"2028-02-29T12:00:00+00:00", "2032-02-29T12:00:00+00:00", "2036-02-29T12:00:00+00:00",
      "2040-02-29T12:00:00+00:00"}},
    {"UTC",
     "0 0 29 2 *",
     "2024-03-01T00:00:00+00:00",
     {"2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00", "2036-02-29T00:00:00+00:00",
      "2040-02-29T00:00:00+00:00"}},
    {"UTC",
     "0 12 * 2 *",
     "2028-02-27T13:00:00+00:00",
     {"2028-02-28T12:00:00+00:00", "2028-02-29T12:00:00+00:00", "2029-02-01T12:00:00+00:00",
      "2029-02-02T12:00:00+00:00"}},
    {"UTC",
     "0 0 31 * *",
     "2026-01-31T00:00:00+00:00",
     {"2026-03-31T00:00:00+00:00", "2026-05-31T00:00:00+00:00", "2026-07-31T00:00:00+00:00",
      "2026-08-31T00:00:00+00:00"}},
    {"UTC",
     "59 23 30,31 * *",
     "2026-01-30T23:59:00+00:00",
     {"2026-01-31T23:59:00+00:00", "2026-03-30T23:59:00+00:00", "2026-03-31T23:59:00+00:00",
      "2026-04-30T23:59:00+00:00"}},
    {"UTC",
     "0 0 28-31 2 *",
     "2027-02-27T00:00:00+00:00",
     {"2027-02-28T00:00:00+00:00", "2028-02-28T00:00:00+00:00", "2028-02-29T00:00:00+00:00",
      "2029-02-28T00:00:00+00:00"}},
    {"UTC",
     "0 0 1 1 *",
     "2026-12-31T23:59:30+00:00",
     {"2027-01-01T00:00:00+00:00", "2028-01-01T00:00:00+00:00", "2029-01-01T00:00:00+00:00",
      "2030-01-01T00:00:00+00:00"}},
    {"UTC",
     "30 23 31 12 *",
     "2026-12-31T23:30:00+00:00",
     {"2027-12-31T23:30:00+00:00", "2028-12-31T23:30:00+00:00", "2029-12-31T23:30:00+00:00",
      "2030-12-31T23:30:00+00:00"}},
    {"UTC",
     "*/30 * 31 12 *",
     "2026-12-31T23:00:00+00:00",
     {"2026-12-31T23:30:00+00:00", "2027-12-31T00:00:00+00:00", "2027-12-31T00:30:00+00:00",
      "2027-12-31T01:00:00+00:00"}},
    {"Europe/London",
     "30 1 * * *",
     "2026-03-28T12:00:00+00:00",
     {"2026-03-29T02:00:00+01:00", "2026-03-30T01:30:00+01:00", "2026-03-31T01:30:00+01:00",
      "2026-04-01T01:30:00+01:00"}},
    {"Europe/London",
     "0,30 1 * * *",
     "2026-03-28T12:00:00+00:00",
     {"2026-03-29T02:00:00+01:00", "2026-03-30T01:00:00+01:00", "2026-03-30T01:30:00+01:00",
      "2026-03-31T01:00:00+01:00"}},
    {"Europe/London",
     "*/15 1 * * *",
     "2026-03-28T12:00:00+00:00",
     {"2026-03-29T02:00:00+01:00", "2026-03-30T01:00:00+01:00", "2026-03-30T01:15:00+01:00",
      "2026-03-30T01:30:00+01:00"}},
    {"Europe/London",
     "*/15 * * * *",
     "2026-03-29T00:40:00+00:00",
     {"2026-03-29T00:45:00+00:00", "2026-03-29T02:00:00+01:00", "2026-03-29T02:15:00+01:00",
      "2026-03-29T02:30:00+01:00"}},
    {"Europe/London",
     "30 * * * *",
     "2026-03-29T00:10:00+00:00",
     {"2026-03-29T00:30:00+00:00", "2026-03-29T02:30:00+01:00", "2026-03-29T03:30:00+01:00",
      "2026-03-29T04:30:00+01:00"}},
    {"Europe/London",
     "* * * * *",
     "2026-03-29T00:58:00+00:00",
     {"2026-03-29T00:59:00+00:00", "2026-03-29T02:00:00+01:00", "2026-03-29T02:01:00+01:00",
      "2026-03-29T02:02:00+01:00"}},
    {"Europe/London",
     "0 1-2 * * *",
     "2026-03-28T12:00:00+00:00",
     {"2026-03-29T02:00:00+01:00", "2026-03-30T01:00:00+01:00", "2026-03-30T02:00:00+01:00",
      "2026-03-31T01:00:00+01:00"}},
    {"Europe/London",
     "30 1 * * *",
     "2026-10-24T12:00:00+01:00",
     {"2026-10-25T01:30:00+01:00", "2026-10-26T01:30:00+00:00", "2026-10-27T01:30:00+00:00",
      "2026-10-28T01:30:00+00:00"}},
    {"Europe/London",
     "30 1 * * *",
     "2026-10-25T01:40:00+00:00",
     {"2026-10-26T01:30:00+00:00", "2026-10-27T01:30:00+00:00", "2026-10-28T01:30:00+00:00",
      "2026-10-29T01:30:00+00:00"}},
    {"Europe/London",
     "30 1 * * *",
     "2026-10-25T01:20:00+00:00",
     {"2026-10-26T01:30:00+00:00", "2026-10-27T01:30:00+00:00", "2026-10-28T01:30:00+00:00",
      "2026-10-29T01:30:00+00:00"}},
    {"Europe/London",
     "45 1 * * *",
     "2026-10-25T01:50:00+01:00",
     {"2026-10-26T01:45:00+00:00", "2026-10-27T01:45:00+00:00", "2026-10-28T01:45:00+00:00",
      "2026-10-29T01:45:00+00:00"}},
    {"Europe/London",
     "*/20 * * * *",
     "2026-10-25T00:50:00+01:00",
     {"2026-10-25T01:00:00+01:00", "2026-10-25T01:20:00+01:00", "2026-10-25T01:40:00+01:00",
      "2026-10-25T01:00:00+00:00"}},
    {"Europe/London",
     "*/30 1 * * *",
     "2026-10-25T00:00:00+01:00",
     {"2026-10-25T01:00:00+01:00", "2026-10-25T01:30:00+01:00", "2026-10-25T01:00:00+00:00",
      "2026-10-25T01:30:00+00:00"}},
    {"Europe/London",
     "0 * * * *",
     "2026-10-25T00:30:00+01:00",
     {"2026-10-25T01:00:00+01:00", "2026-10-25T01:00:00+00:00", "2026-10-25T02:00:00+00:00",
      "2026-10-25T03:00:00+00:00"}},
    {"Europe/London",
     "*/10 * * * *",
     "2026-10-25T01:55:00+01:00",
     {"2026-10-25T01:00:00+00:00", "2026-10-25T01:10:00+00:00", "2026-10-25T01:20:00+00:00",
      "2026-10-25T01:30:00+00:00"}},
    {"Europe/London",
     "* 1 * * *",
     "2026-10-25T01:59:30+01:00",
     {"2026-10-25T01:00:00+00:00", "2026-10-25T01:01:00+00:00", "2026-10-25T01:02:00+00:00",
      "2026-10-25T01:03:00+00:00"}},
    {"Europe/London",
     "0 0 31 * *",
     "2026-03-01T00:00:00+00:00",
     {"2026-03-31T00:00:00+01:00", "2026-05-31T00:00:00+01:00", "2026-07-31T00:00:00+01:00",
      "2026-08-31T00:00:00+01:00"}},
    {"America/New_York",
     "30 2 * * *",
     "2026-03-07T12:00:00-05:00",
     {"2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00", "2026-03-10T02:30:00-04:00",
      "2026-03-11T02:30:00-04:00"}},
    {"America/New_York",
     "0 2 * * *",
     "2026-03-07T12:00:00-05:00",
     {"2026-03-08T03:00:00-04:00", "2026-03-09T02:00:00-04:00", "2026-03-10T02:00:00-04:00",
      "2026-03-11T02:00:00-04:00"}},
    {"America/New_York",
     "30 2 * * 0",
     "2026-03-01T12:00:00-05:00",
     {"2026-03-08T03:00:00-04:00", "2026-03-15T02:30:00-04:00", "2026-03-22T02:30:00-04:00",
      "2026-03-29T02:30:00-04:00"}},
    {"America/New_York",
     "*/30 * * * *",
     "2026-03-08T01:15:00-05:00",
     {"2026-03-08T01:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T03:30:00-04:00",
      "2026-03-08T04:00:00-04:00"}},
    {"America/New_York",
     "0 1 * * *",
     "2026-10-31T12:00:00-04:00",
     {"2026-11-01T01:00:00-04:00", "2026-11-02T01:00:00-05:00", "2026-11-03T01:00:00-05:00",
      "2026-11-04T01:00:00-05:00"}},
    {"America/New_York",
     "*/30 1 * * *",
     "2026-11-01T00:00:00-04:00",
     {"2026-11-01T01:00:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-01T01:00:00-05:00",
      "2026-11-01T01:30:00-05:00"}},
    {"America/New_York",
     "15 1 1 11 *",
     "2026-11-01T01:20:00-05:00",
     {"2027-11-01T01:15:00-04:00", "2028-11-01T01:15:00-04:00", "2029-11-01T01:15:00-04:00",
      "2030-11-01T01:15:00-04:00"}},
    {"America/New_York",
     "15 1 * * *",
     "2026-11-01T01:05:00-05:00",
     {"2026-11-02T01:15:00-05:00", "2026-11-03T01:15:00-05:00", "2026-11-04T01:15:00-05:00",
      "2026-11-05T01:15:00-05:00"}},
    {"America/New_York",
     "@daily",
     "2026-11-01T00:00:00-04:00",
     {"2026-11-02T00:00:00-05:00", "2026-11-03T00:00:00-05:00", "2026-11-04T00:00:00-05:00",
      "2026-11-05T00:00:00-05:00"}},
    {"America/New_York",
     "0 12 29 2 *",
     "2026-01-01T00:00:00-05:00",
     {"2028-02-29T12:00:00-05:00", "2032-02-29T12:00:00-05:00", "2036-02-29T12:00:00-05:00",
      "2040-02-29T12:00:00-05:00"}},
    {"Australia/Sydney",
     "30 2 * * *",
     "2026-10-03T12:00:00+10:00",
     {"2026-10-04T03:00:00+11:00", "2026-10-05T02:30:00+11:00", "2026-10-06T02:30:00+11:00",
      "2026-10-07T02:30:00+11:00"}},
    {"Australia/Sydney",
     "30 2 * * *",
     "2026-04-04T12:00:00+11:00",
     {"2026-04-05T02:30:00+11:00", "2026-04-06T02:30:00+10:00", "2026-04-07T02:30:00+10:00",
      "2026-04-08T02:30:00+10:00"}},
    {"Australia/Sydney",
     "*/30 2 * * *",
     "2026-04-05T00:00:00+11:00",
     {"2026-04-05T02:00:00+11:00", "2026-04-05T02:30:00+11:00", "2026-04-05T02:00:00+10:00",
      "2026-04-05T02:30:00+10:00"}},
    {"Australia/Sydney",
     "0 * * * *",
     "2026-10-04T01:30:00+10:00",
     {"2026-10-04T03:00:00+11:00", "2026-10-04T04:00:00+11:00", "2026-10-04T05:00:00+11:00",
      "2026-10-04T06:00:00+11:00"}},
    {"Australia/Sydney",
     "0 12 31 12 *",
     "2026-12-31T12:00:00+11:00",
     {"2027-12-31T12:00:00+11:00", "2028-12-31T12:00:00+11:00", "2029-12-31T12:00:00+11:00",
      "2030-12-31T12:00:00+11:00"}},
    {"Australia/Sydney",
     "0 0 1 1,7 *",
     "2026-06-15T00:00:00+10:00",
     {"2026-07-01T00:00:00+10:00", "2027-01-01T00:00:00+11:00", "2027-07-01T00:00:00+10:00",
      "2028-01-01T00:00:00+11:00"}},
    {"America/Santiago",
     "@daily",
     "2026-09-05T12:00:00-04:00",
     {"2026-09-06T01:00:00-03:00", "2026-09-07T00:00:00-03:00", "2026-09-08T00:00:00-03:00",
      "2026-09-09T00:00:00-03:00"}},
    {"America/Santiago",
     "30 23 * * *",
     "2026-04-04T12:00:00-03:00",
     {"2026-04-04T23:30:00-03:00", "2026-04-05T23:30:00-04:00", "2026-04-06T23:30:00-04:00",
      "2026-04-07T23:30:00-04:00"}},
    {"America/Santiago",
     "*/20 23 * * *",
     "2026-04-04T23:30:00-03:00",
     {"2026-04-04T23:40:00-03:00", "2026-04-04T23:00:00-04:00", "2026-04-04T23:20:00-04:00",
      "2026-04-04T23:40:00-04:00"}},
    {"Australia/Lord_Howe",
     "*/15 * * * *",
     "2026-04-05T01:20:00+11:00",
     {"2026-04-05T01:30:00+11:00", "2026-04-05T01:45:00+11:00", "2026-04-05T01:30:00+10:30",
      "2026-04-05T01:45:00+10:30"}},
    {"Australia/Lord_Howe",
     "15 2 * * *",
     "2026-10-03T12:00:00+10:30",
     {"2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00", "2026-10-06T02:15:00+11:00",
      "2026-10-07T02:15:00+11:00"}},
};
#define NEXT_CASES ((int)(sizeof next_cases / sizeof next_cases[0]))

/* Days from 1970-01-01 to y-m-d, for the expected times (a copy of the calendar
 * arithmetic would test nothing: this one counts days month by month). */
static int64_t days_since_epoch(int y, int m, int d)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t days = 0;
    for (int yy = 1970; yy < y; yy++)
        days += ((yy % 4 == 0 && yy % 100 != 0) || yy % 400 == 0) ? 366 : 365;
    for (int mm = 1; mm < m; mm++)
        days += mdays[mm - 1] + (mm == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
    return days + d - 1;
}

/* Unix seconds of "YYYY-MM-DDTHH:MM:SS+HH:MM". */
static int64_t iso_seconds(const char *s)
{
    int y, mo, d, h, mi, sec, oh, om;
    char sign;
    ck_assert_msg(sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c%2d:%2d", &y, &mo, &d, &h, &mi, &sec, &sign,
                         &oh, &om) == 9,
                  "bad time %s", s);
    int64_t off = (oh * 3600 + om * 60) * (sign == '-' ? -1 : 1);
    return days_since_epoch(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
}

/* A Unix time as the local ISO text (for failure messages). */
static void local_text(int64_t t, char buf[64])
{
    time_t tt = (time_t)t;
    struct tm tm;
    ck_assert_ptr_nonnull(localtime_r(&tt, &tm));
    ck_assert_uint_gt(strftime(buf, 64, "%Y-%m-%dT%H:%M:%S%z", &tm), 0);
}

START_TEST(next_fire_times_match_the_table)
{
    const next_case *k = &next_cases[_i];
    ck_assert_int_eq(td_timezone_set(k->zone), TD_OK);
    td_cron c;
    char err[TD_CRON_ERR_MAX] = "";
    ck_assert_msg(td_cron_parse(k->expr, &c, err) == TD_OK, "%s: %s", k->expr, err);
    int64_t t = iso_seconds(k->start);
    for (int i = 0; i < FIRES; i++) {
        int64_t next = 0;
        ck_assert_msg(td_cron_next(&c, t, &next) == TD_OK, "%s %s: no fire %d", k->zone, k->expr,
                      i + 1);
        char got[64];
        local_text(next, got);
        ck_assert_msg(next == iso_seconds(k->fires[i]), "%s \"%s\" after %s: fire %d is %s, not %s",
                      k->zone, k->expr, k->start, i + 1, got, k->fires[i]);
        t = next;
    }
}
END_TEST

START_TEST(next_within_a_minute_and_on_seconds)
{
    ck_assert_int_eq(td_timezone_set("UTC"), TD_OK);
    td_cron c;
    ck_assert_int_eq(td_cron_parse("* * * * *", &c, NULL), TD_OK);
    int64_t next = 0, t = iso_seconds("2026-05-05T10:00:00+00:00");
    ck_assert_int_eq(td_cron_next(&c, t, &next), TD_OK);
    ck_assert_int_eq(next, t + 60); /* strictly after a fire time */
    ck_assert_int_eq(td_cron_next(&c, t + 59, &next), TD_OK);
    ck_assert_int_eq(next, t + 60);
    ck_assert_int_eq(td_cron_next(&c, t - 1, &next), TD_OK);
    ck_assert_int_eq(next, t);
}
END_TEST

START_TEST(none_within_five_years_is_not_found)
{
    static const struct {
        const char *zone, *expr, *start;
    } none[] = {
        {"UTC", "0 0 30 2 *", "2026-01-01T00:00:00+00:00"},
        {"UTC", "0 0 31 4,6,9,11 *", "2026-01-01T00:00:00+00:00"},
        {"UTC", "0 0 29 2 *", "2096-03-01T00:00:00+00:00"}, /* 2100 is no leap year */
        {"Europe/London", "0 0 30 FEB ?", "2026-01-01T00:00:00+00:00"},
    };
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        ck_assert_int_eq(td_timezone_set(none[i].zone), TD_OK);
        td_cron c;
        ck_assert_int_eq(td_cron_parse(none[i].expr, &c, NULL), TD_OK);
        int64_t next = 42;
        ck_assert_msg(td_cron_next(&c, iso_seconds(none[i].start), &next) == TD_ENOTFOUND,
                      "%s found", none[i].expr);
        ck_assert_int_eq(next, 42);
    }
    /* Four years away is within the five. */
    td_cron c;
    ck_assert_int_eq(td_cron_parse("0 0 29 2 *", &c, NULL), TD_OK);
    int64_t next = 0;
    ck_assert_int_eq(td_cron_next(&c, iso_seconds("2024-02-29T00:00:00+00:00"), &next), TD_OK);
    ck_assert_int_eq(next, iso_seconds("2028-02-29T00:00:00+00:00"));
}
END_TEST

START_TEST(next_refuses_bad_arguments)
{
    ck_assert_int_eq(td_timezone_set("UTC"), TD_OK);
    td_cron c, empty = {0};
    ck_assert_int_eq(td_cron_parse("@daily", &c, NULL), TD_OK);
    int64_t next = 7;
    ck_assert_int_eq(td_cron_next(&c, -1, &next), TD_EINVAL);
    ck_assert_int_eq(td_cron_next(&c, TD_CRON_AFTER_MAX + 1, &next), TD_EINVAL);
    ck_assert_int_eq(td_cron_next(&empty, 0, &next), TD_EINVAL);
    ck_assert_int_eq(td_cron_next(NULL, 0, &next), TD_EINVAL);
    ck_assert_int_eq(td_cron_next(&c, 0, NULL), TD_EINVAL);
    ck_assert_int_eq(next, 7);
    ck_assert_int_eq(td_cron_next(&c, TD_CRON_AFTER_MAX, &next), TD_OK);
    ck_assert_int_eq(next, TD_CRON_AFTER_MAX + 86400);
}
END_TEST

START_TEST(parse_sets_the_bits_of_each_field)
{
    td_cron c;
    ck_assert_int_eq(td_cron_parse("0-59/20 1,3-4 */10 JAN-mar/2 mon-FRI", &c, NULL), TD_OK);
    ck_assert_uint_eq(c.minutes, (1ULL << 0) | (1ULL << 20) | (1ULL << 40));
    ck_assert_uint_eq(c.hours, (1u << 1) | (1u << 3) | (1u << 4));
    ck_assert_uint_eq(c.mdays, (1u << 1) | (1u << 11) | (1u << 21) | (1u << 31));
    ck_assert_uint_eq(c.months, (1u << 1) | (1u << 3));
    ck_assert_uint_eq(c.wdays, 0x3eu);
    ck_assert(!c.mday_any && !c.wday_any && !c.minute_star && !c.hour_star);

    ck_assert_int_eq(td_cron_parse("* */2 ? * *", &c, NULL), TD_OK);
    ck_assert_uint_eq(c.minutes, (1ULL << 60) - 1);
    ck_assert_uint_eq(c.hours, 0x555555u);
    ck_assert_uint_eq(c.mdays, 0xfffffffeu);
    ck_assert_uint_eq(c.months, 0x1ffeu);
    ck_assert_uint_eq(c.wdays, 0x7fu);
    ck_assert(c.mday_any && c.wday_any && c.minute_star && c.hour_star);

    /* 7 is Sunday; a star with a step restricts the day (no Vixie '*'). */
    ck_assert_int_eq(td_cron_parse("0 0 */2 * 5-7", &c, NULL), TD_OK);
    ck_assert_uint_eq(c.wdays, (1u << 0) | (1u << 5) | (1u << 6));
    ck_assert(!c.mday_any && !c.wday_any);
    ck_assert_int_eq(td_cron_parse("0 0 * * 0-7", &c, NULL), TD_OK);
    ck_assert_uint_eq(c.wdays, 0x7fu);
    ck_assert(!c.wday_any);
    ck_assert_int_eq(td_cron_parse("0 0 * * 7/1", &c, NULL), TD_OK);
    ck_assert_uint_eq(c.wdays, 1u);
    ck_assert_int_eq(td_cron_parse("0 0 * * 1/2", &c, NULL), TD_OK);
    ck_assert_uint_eq(c.wdays, (1u << 1) | (1u << 3) | (1u << 5));
    ck_assert_int_eq(td_cron_parse("0 0 * * */3", &c, NULL), TD_OK);
    ck_assert_uint_eq(c.wdays, (1u << 0) | (1u << 3) | (1u << 6));
    /* Blanks: leading, trailing, tabs, several. */
    ck_assert_int_eq(td_cron_parse(" \t5  4\t* *  sun \t", &c, NULL), TD_OK);
    ck_assert_uint_eq(c.minutes, 1ULL << 5);
    ck_assert_uint_eq(c.wdays, 1u);
}
END_TEST

START_TEST(macros_are_their_expressions)
{
    static const char *const pairs[][2] = {
        {"@hourly", "0 * * * *"},   {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
        {"@weekly", "0 0 * * 0"},   {"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"},
        {"@annually", "0 0 1 1 *"}, {" @DAILY ", "0 0 * * *"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        td_cron a, b;
        ck_assert_int_eq(td_cron_parse(pairs[i][0], &a, NULL), TD_OK);
        ck_assert_int_eq(td_cron_parse(pairs[i][1], &b, NULL), TD_OK);
        ck_assert_msg(a.minutes == b.minutes && a.hours == b.hours && a.mdays == b.mdays &&
                          a.months == b.months && a.wdays == b.wdays && a.mday_any == b.mday_any &&
                          a.wday_any == b.wday_any && a.minute_star == b.minute_star &&
                          a.hour_star == b.hour_star,
                      "%s", pairs[i][0]);
    }
}
END_TEST

START_TEST(parse_refuses_bad_expressions_with_a_clear_message)
{
    static const char *const bad[][2] = {
        {"", "empty expression"},
        {" \t ", "empty expression"},
        {"* * * *", "expected 5 fields (minute hour day-of-month month day-of-week), found 4"},
        {"* * * * * *", "found 6"},
        {"60 * * * *", "field 1 (minute): 60 is out of range 0-59"},
        {"0 24 * * *", "field 2 (hour): 24 is out of range 0-23"},
        {"0 0 0 * *", "field 3 (day of month): 0 is out of range 1-31"},
        {"0 0 32 * *", "field 3 (day of month): 32 is out of range 1-31"},
        {"0 0 * 13 *", "field 4 (month): 13 is out of range 1-12"},
        {"0 0 * * 8", "field 5 (day of week): 8 is out of range 0-7"},
        {"30-10 * * * *", "field 1 (minute): range 30-10 is reversed"},
        {"0 0 * * FRI-MON", "field 5 (day of week): range FRI-MON is reversed"},
        {"*/0 * * * *", "field 1 (minute): step 0 is out of range 1-60"},
        {"0 0 1-10/0 * *", "field 3 (day of month): step 0 is out of range 1-31"},
        {"*/61 * * * *", "field 1 (minute): step 61 is out of range 1-60"},
        {"0 0 * FOO *", "field 4 (month): unknown name 'FOO' (JAN-DEC or 1-12)"},
        {"0 0 * JAN-FOO *", "field 4 (month): unknown name 'FOO'"},
        {"0 0 * * MONDAY", "field 5 (day of week): unknown name 'MONDAY' (SUN-SAT or 0-7)"},
        {"0 0 * * JAN", "field 5 (day of week): unknown name 'JAN'"},
        {"abc * * * *", "field 1 (minute): 'abc' is not a number (0-59)"},
        {"0 0 L * *", "field 3 (day of month): 'L' is not a number"},
        {"0 0 * * MON#2", "field 5 (day of week): unexpected '#' in \"MON#2\""},
        {"0 0 * 1.5 *", "field 4 (month): unexpected '.'"},
        {"0 0 * * 1\x01", "field 5 (day of week): unexpected byte 0x01"},
        {"99999999999999999999 * * * *",
         "field 1 (minute): 99999999999999999999 is out of range 0-59"},
        {"0 4294967296 * * *", "field 2 (hour): 4294967296 is out of range 0-23"},
        {"0 0 1,,2 * *", "field 3 (day of month): empty item in the list \"1,,2\""},
        {"0 0 1, * *", "field 3 (day of month): empty item"},
        {"0 ,1 * * *", "field 2 (hour): empty item"},
        {"5- * * * *", "field 1 (minute): a number is missing at the end of \"5-\""},
        {"-5 * * * *", "field 1 (minute): expected a number, found '-'"},
        {"0 0 *-5 * *", "field 3 (day of month): unexpected '-'"},
        {"0 0 * * 1-7-2", "field 5 (day of week): unexpected '-'"},
        {"*/ * * * *", "field 1 (minute): a step is missing after '/'"},
        {"0 0 * * 1/x", "field 5 (day of week): the step after '/' must be a number, found 'x'"},
        {"? * * * *", "field 1 (minute): '?' is allowed in the day fields only"},
        {"0 0 * ? *", "field 4 (month): '?' is allowed in the day fields only"},
        {"@every 5m", "unknown macro @every"},
        {"@reboot", "unknown macro @reboot"},
        {"@daily 1", "macro @daily takes no fields after it"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        td_cron c = {.minutes = 42};
        char err[TD_CRON_ERR_MAX] = "";
        ck_assert_msg(td_cron_parse(bad[i][0], &c, err) == TD_EINVAL, "accepted \"%s\"", bad[i][0]);
        ck_assert_msg(strstr(err, bad[i][1]) != NULL, "\"%s\": message \"%s\" lacks \"%s\"",
                      bad[i][0], err, bad[i][1]);
        ck_assert_uint_eq(c.minutes, 42); /* *out untouched */
    }
    /* No buffer: still refused. A long field is quoted cut, inside the buffer. */
    td_cron c;
    ck_assert_int_eq(td_cron_parse(NULL, &c, NULL), TD_EINVAL);
    ck_assert_int_eq(td_cron_parse("61 * * * *", &c, NULL), TD_EINVAL);
    char long_expr[400], err[TD_CRON_ERR_MAX];
    memset(long_expr, '1', sizeof long_expr - 1);
    memcpy(long_expr + sizeof long_expr - 9, " * * * *", 9);
    ck_assert_int_eq(td_cron_parse(long_expr, &c, err), TD_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "is out of range 0-59"));
    ck_assert_uint_lt(strlen(err), TD_CRON_ERR_MAX);
}
END_TEST

/* The UTC offset of the local zone at t. */
static long offset_at(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    ck_assert_ptr_nonnull(localtime_r(&tt, &tm));
    return tm.tm_gmtoff;
}

START_TEST(timezone_set_takes_zone_files_only)
{
    int64_t july = iso_seconds("2026-07-01T12:00:00+00:00");
    ck_assert_int_eq(td_timezone_set("Europe/London"), TD_OK);
    ck_assert_str_eq(td_timezone_name(), "Europe/London");
    ck_assert_int_eq(offset_at(july), 3600);
    static const char *const bad[] = {
        "",
        "Nowhere/City",
        "../../../etc/passwd",
        "Europe/../UTC",
        "/usr/share/zoneinfo/UTC",
        "Europe",   /* a directory */
        "zone.tab", /* a text file */
        "Europe/London ",
        "Europe/London\n",
        "UTC;rm",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(td_timezone_set(bad[i]) == TD_EINVAL, "accepted %s", bad[i]);
        ck_assert_str_eq(td_timezone_name(), "Europe/London"); /* unchanged */
        ck_assert_int_eq(offset_at(july), 3600);
    }
    ck_assert_int_eq(td_timezone_set(NULL), TD_EINVAL);
    ck_assert_int_eq(td_timezone_set("America/New_York"), TD_OK);
    ck_assert_int_eq(offset_at(july), -4 * 3600);
    ck_assert_int_eq(td_timezone_set("UTC"), TD_OK);
    ck_assert_int_eq(offset_at(july), 0);
}
END_TEST

START_TEST(timezone_from_env_defaults_to_utc)
{
    int64_t july = iso_seconds("2026-07-01T12:00:00+00:00");
    ck_assert_int_eq(setenv(TD_ENV_TIMEZONE, "Australia/Sydney", 1), 0);
    ck_assert_int_eq(td_timezone_from_env(), TD_OK);
    ck_assert_str_eq(td_timezone_name(), "Australia/Sydney");
    ck_assert_int_eq(offset_at(july), 10 * 3600);
    ck_assert_int_eq(setenv(TD_ENV_TIMEZONE, "Mars/Olympus", 1), 0);
    ck_assert_int_eq(td_timezone_from_env(), TD_EINVAL);
    ck_assert_str_eq(td_timezone_name(), "Australia/Sydney");
    ck_assert_int_eq(unsetenv(TD_ENV_TIMEZONE), 0);
    ck_assert_int_eq(td_timezone_from_env(), TD_OK);
    ck_assert_str_eq(td_timezone_name(), "UTC");
    ck_assert_int_eq(offset_at(july), 0);
    ck_assert_int_eq(setenv(TD_ENV_TIMEZONE, "", 1), 0);
    ck_assert_int_eq(td_timezone_set("Europe/London"), TD_OK);
    ck_assert_int_eq(td_timezone_from_env(), TD_OK);
    ck_assert_str_eq(td_timezone_name(), "UTC");
}
END_TEST

static Suite *cron_suite(void)
{
    Suite *s = suite_create("cron");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, next_fire_times_match_the_table, 0, NEXT_CASES);
    tcase_add_test(tc, next_within_a_minute_and_on_seconds);
    tcase_add_test(tc, none_within_five_years_is_not_found);
    tcase_add_test(tc, next_refuses_bad_arguments);
    tcase_add_test(tc, parse_sets_the_bits_of_each_field);
    tcase_add_test(tc, macros_are_their_expressions);
    tcase_add_test(tc, parse_refuses_bad_expressions_with_a_clear_message);
    tcase_add_test(tc, timezone_set_takes_zone_files_only);
    tcase_add_test(tc, timezone_from_env_defaults_to_utc);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(cron_suite());
}

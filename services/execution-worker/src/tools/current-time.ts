/** The current time in UTC and, when asked, in an IANA time zone. @throws RangeError for an unknown zone */
export function currentTime(timezone: string | undefined, now = new Date()): string {
  const zone = timezone?.trim() || "UTC";
  const fmt = new Intl.DateTimeFormat("en-GB", {
    timeZone: zone,
    weekday: "long",
    year: "numeric",
    month: "long",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hour12: false,
    timeZoneName: "shortOffset",
  });
  return `${fmt.format(now)} (${zone}); ISO ${now.toISOString()}`;
}

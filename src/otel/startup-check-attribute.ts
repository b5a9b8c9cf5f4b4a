/** Attribute of the one span onbehalf's start-up check starts; the audit-aware sampler never samples it. */
export const STARTUP_CHECK_ATTRIBUTE = 'onbehalf.startup_check';

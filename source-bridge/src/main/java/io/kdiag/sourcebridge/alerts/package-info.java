/** The Alertmanager endpoint: alert payloads, matched against the PrometheusAlert rules. */
package io.kdiag.sourcebridge.alerts;

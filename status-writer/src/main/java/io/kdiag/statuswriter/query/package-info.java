/** The read-only query API over this instance's fold store: statuses and event histories as JSON. */
package io.kdiag.statuswriter.query;

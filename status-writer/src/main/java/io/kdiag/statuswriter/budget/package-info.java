/** The recovery budget arbiter: a sub-topology of the status writer that decides, one at a time, which recoveries may run. */
package io.kdiag.statuswriter.budget;

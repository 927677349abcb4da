package io.kdiag.stageworkers;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The TLS context of the calls to processors whose registration opts out of verification
 * ({@code kdiag.io/insecure-skip-tls-verify}), as KubeDiag made every call: any certificate, any host name. An
 * {@link X509ExtendedTrustManager}, because the JDK wraps a plain one in a manager that still checks the host name.
 */
final class TrustingEverything extends X509ExtendedTrustManager {
    private TrustingEverything() {
    }

    /** A TLS context trusting every server. */
    static SSLContext sslContext() {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {new TrustingEverything()}, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no TLS in this JVM", e);
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
        // trusted: the registration asked for no verification
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        // trusted: the registration asked for no verification
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {
        // trusted: the registration asked for no verification
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        throw new CertificateException("the agent is never a TLS server with this context");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        throw new CertificateException("the agent is never a TLS server with this context");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("the agent is never a TLS server with this context");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
    }
}

/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // The custom server (server/main.ts) owns the process; Next only renders pages.
  serverExternalPackages: ['node-pty'],
  devIndicators: false,
};
export default nextConfig;
